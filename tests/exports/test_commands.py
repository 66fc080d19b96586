"""`agenttrace export` and `agenttrace import` as people run them: a progress bar, a
summary line, and a one-line error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.exports.conftest import SOURCE_PROJECT


def _agenttrace(engine: AsyncEngine, *args: str) -> subprocess.CompletedProcess[str]:
    url = engine.url.render_as_string(hide_password=False).replace("+asyncpg", "")
    return subprocess.run(
        [sys.executable, "-m", "agenttrace.cli", *args],
        env=os.environ | {"AGENTTRACE_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_export_and_import_commands_round_trip_with_progress(
    source: AsyncEngine, tmp_path: Path
) -> None:
    out = tmp_path / "cli"
    exported = _agenttrace(
        source, "export", "--project", SOURCE_PROJECT, "--format", "parquet", "--to", str(out),
        "--since", "2025-12-20T00:00:00Z",
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    assert "spans/s" in exported.stderr  # the tqdm bar's rate
    assert exported.stdout.startswith("exported 25 traces, 243 spans and 2 annotations")
    assert sorted(p.name for p in out.iterdir()) == [
        "annotations.parquet",
        "manifest.json",
        "spans.parquet",
        "traces.parquet",
    ]

    # Into another project of the same database: the annotations get ids of their own.
    imported = _agenttrace(source, "import", "--project", "cli-copy", "--from", str(out))
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith("imported 25 traces, 243 spans and 2 annotations")
    assert "API key (shown once): at_" in imported.stdout
    async with source.connect() as conn:
        copies = await conn.scalar(
            text(
                "SELECT count(*) FROM annotations a JOIN projects p ON p.id = a.project_id"
                " WHERE p.name = 'cli-copy'"
            )
        )
    assert copies == 2

    again = _agenttrace(source, "import", "--project", "cli-copy", "--from", str(out))
    assert again.returncode == 1
    assert (
        again.stderr.strip()
        .splitlines()[-1]
        .startswith("error: the project already holds 25 of the 25 traces")
    )
