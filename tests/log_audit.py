"""Every log the test suite produces, and the check at its end that none holds a secret
(issue 5: "Logs captured during the whole suite contain no API key, password or JWT").

What is collected:

- In-process: structlog and standard logging of the test process itself, where the
  in-process apps run (``<basetemp>/logs/in-process.log``, from the first test on;
  standard logging at INFO, the servers' default level; structlog at every level).
- Every ``agenttrace`` subprocess (tests/processes.py): its stderr, which is its log
  (structlog, uvicorn, logging), and its stdout, where it prints for the operator.
- Output a test hands over (``record_output``), such as a CLI run's stderr and stdout.
- Any other ``*.log`` under the session's temporary directory (the benchmarks'
  processes, embedded PostgreSQL), whose mix of streams is not known.

Not collected: what the in-process uvicorn of tests/graph/live_server.py logs (uvicorn's
loggers do not propagate to the root logger, and it runs at WARNING). The same uvicorn
runs in every subprocess server, whose stderr is collected.

What counts as a leak: an API key (``at_...``), a refresh token (``atr_...``), a JWT, a
bearer credential, or any value given to ``tests.secrets_registry.remember_secret``.

One exception, and only on a terminal stream (stdout, or a file that may hold stdout):
a first start of ``serve`` and ``agenttrace project create`` print a new key (and the
first admin's password) once, for the operator to copy. That display is the product
working, not a log line. A secret is allowed on a line that has exactly one of the
shapes in ``ONE_TIME_DISPLAYS`` and nowhere else: a log line that happened to reach
stdout, with its timestamp and level, is still a leak. Log streams get no exception.
"""

from __future__ import annotations

import enum
import logging
import re
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, cast

import structlog

from tests.secrets_registry import REGISTRY, SecretsRegistry


class Kind(enum.Enum):
    LOG = "log"
    """Only log lines: nothing secret may appear."""
    TERMINAL = "terminal"
    """May hold the one-time displays of ONE_TIME_DISPLAYS."""


SECRET_SHAPES: dict[str, re.Pattern[str]] = {
    "API key": re.compile(r"(?<![A-Za-z0-9_-])at_[A-Za-z0-9_-]{20,}"),
    "refresh token": re.compile(r"(?<![A-Za-z0-9_-])atr_[A-Za-z0-9_-]{20,}"),
    "JWT": re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
    "bearer credential": re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{16,}"),
}

ONE_TIME_DISPLAYS: tuple[re.Pattern[str], ...] = (
    # serve's first start (agenttrace/apps.py): the new key, and the first admin's
    # one-time password, each alone on a line indented by four spaces.
    re.compile(r" {4}\S+"),
    re.compile(
        r' {4}export OTEL_EXPORTER_OTLP_TRACES_HEADERS="Authorization=Bearer at_[A-Za-z0-9_-]+"'
    ),
    # agenttrace user create EMAIL, without --password-stdin (agenttrace/cli.py).
    re.compile(r"One-time password \(shown once; it must be changed at first login\): \S+"),
    # agenttrace project create NAME [--json] (agenttrace/cli.py).
    re.compile(r"API key \(shown once\): at_[A-Za-z0-9_-]+"),
    re.compile(r'\{"id":"[^"]*","name":"[^"]*","api_key":"at_[A-Za-z0-9_-]+"\}'),
)
"""Whole lines that display a secret once, on purpose. Add the shape of a new one-time
display here (as narrow as it can be), never a log line's."""


@dataclass(frozen=True)
class Leak:
    source: str
    line_number: int
    what: str
    line: str
    """The line with every secret in it cut to its first characters."""

    def __str__(self) -> str:
        return f"{self.source}:{self.line_number}: {self.what}: {self.line}"


def _mask(line: str, spans: Iterable[tuple[int, int]]) -> str:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    masked = line
    for start, end in reversed(merged):
        masked = masked[:start] + masked[start : start + 6] + "<...>" + masked[end:]
    return masked if len(masked) <= 300 else masked[:300] + "<...>"


class SecretScanner:
    """Finds the secrets in a text: every shape of SECRET_SHAPES and the registered
    ``secrets``, as they are and as they appear JSON-escaped."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._patterns = [*SECRET_SHAPES.items()]
        forms = {form for s in secrets for form in (s, _json_escaped(s))}
        if forms:
            alternatives = (re.escape(s) for s in sorted(forms, key=len, reverse=True))
            self._patterns.append(("registered secret", re.compile("|".join(alternatives))))

    def leaks(self, text: str, source: str, kind: Kind) -> Iterator[Leak]:
        """Every secret in ``text``, except on a one-time display line of a terminal."""
        for number, line in enumerate(text.splitlines(), start=1):
            found = [(what, m.span()) for what, p in self._patterns for m in p.finditer(line)]
            if not found:
                continue
            if kind is Kind.TERMINAL and any(d.fullmatch(line) for d in ONE_TIME_DISPLAYS):
                continue
            yield Leak(
                source,
                number,
                ", ".join(sorted({what for what, _ in found})),
                _mask(line, [span for _, span in found]),
            )


def _json_escaped(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


class _Tee:
    """structlog's PrintLogger file: the capture file, and stdout as before (pytest
    shows it for a failed test)."""

    def __init__(self, capture: TextIO) -> None:
        self._capture = capture
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            self._capture.write(text)
        return sys.stdout.write(text)

    def flush(self) -> None:
        with self._lock:
            self._capture.flush()
        sys.stdout.flush()


class LogAudit:
    def __init__(self, secrets: SecretsRegistry = REGISTRY) -> None:
        self._secrets = secrets
        self._lock = threading.Lock()
        self._files: dict[Path, Kind] = {}
        self._texts: list[tuple[str, str, Kind]] = []
        self._root: Path | None = None
        self._capture: TextIO | None = None
        self._handler: logging.Handler | None = None
        self._factory: Any = None
        self._structlog_before: dict[str, Any] = {}
        self._root_level = logging.NOTSET

    def register_file(self, path: Path, kind: Kind) -> None:
        with self._lock:
            self._files[path.resolve()] = kind

    def record(self, source: str, text: str, kind: Kind) -> None:
        with self._lock:
            self._texts.append((source, text, kind))

    def start(self, root: Path) -> None:
        """Captures this process's logs into ``root/logs``; other ``*.log`` files under
        ``root`` are swept up by ``leaks``."""
        self._root = root
        capture_path = root / "logs" / "in-process.log"
        capture_path.parent.mkdir(parents=True, exist_ok=True)
        self.register_file(capture_path, Kind.LOG)
        self._capture = capture_path.open("a", encoding="utf-8")
        self._structlog_before = structlog.get_config()
        self._factory = structlog.PrintLoggerFactory(file=cast(TextIO, _Tee(self._capture)))
        structlog.configure(logger_factory=self._factory)
        # Appending: uvicorn's dictConfig closes every handler, and a FileHandler in
        # mode "a" reopens on its next record.
        self._handler = logging.FileHandler(capture_path, mode="a", encoding="utf-8")
        self._handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
        )
        root_logger = logging.getLogger()
        root_logger.addHandler(self._handler)
        self._root_level = root_logger.level
        if root_logger.getEffectiveLevel() > logging.INFO:
            root_logger.setLevel(logging.INFO)

    def stop(self) -> list[str]:
        """Ends the in-process capture; returns problems with the capture itself (a test
        that replaced it left logs unaudited)."""
        problems = []
        if structlog.get_config()["logger_factory"] is not self._factory:
            problems.append(
                "structlog was reconfigured during the session, so in-process structlog"
                " output after that was not audited; use structlog.testing.capture_logs()"
                " in tests, which restores the configuration"
            )
        structlog.configure(**self._structlog_before)
        root_logger = logging.getLogger()
        if self._handler is not None:
            root_logger.removeHandler(self._handler)
            self._handler.close()
        root_logger.setLevel(self._root_level)
        if self._capture is not None:
            self._capture.close()
        return problems

    def sources(self) -> Iterator[tuple[str, str, Kind]]:
        with self._lock:
            files = dict(self._files)
            texts = list(self._texts)
        if self._root is not None:
            for path in sorted(self._root.rglob("*.log")):
                files.setdefault(path.resolve(), Kind.TERMINAL)
        for path, kind in sorted(files.items()):
            if path.exists():
                yield str(path), path.read_text(encoding="utf-8", errors="replace"), kind
        yield from texts

    def leaks(self) -> list[Leak]:
        scanner = SecretScanner(self._secrets.all())
        return [
            leak
            for source, text, kind in self.sources()
            for leak in scanner.leaks(text, source, kind)
        ]


AUDIT = LogAudit()


def register_log_file(path: Path, kind: Kind) -> None:
    """Audits ``path`` at the end of the session (whatever it holds by then)."""
    AUDIT.register_file(path, kind)


def record_output(source: str, text: str, kind: Kind) -> None:
    """Audits ``text`` (output a test captured itself) at the end of the session."""
    AUDIT.record(source, text, kind)
