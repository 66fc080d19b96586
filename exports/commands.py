"""``agenttrace export`` and ``agenttrace import``: arguments, a progress bar, a summary.

agenttrace export --project NAME [--since ISO] [--until ISO] [--format jsonl|parquet] --to DEST
agenttrace import --project NAME --from SRC [--merge]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import Any

from tqdm import tqdm

from agenttrace.errors import UserError
from agenttrace.settings import Settings
from exports.export import DEFAULT_PAGE_ROWS, export_project
from exports.import_ import DEFAULT_BATCH_ROWS, import_project
from exports.manifest import DATA_FORMATS
from storage.database import create_engine, database_url
from storage.migrate import upgrade

COMMANDS = ("export", "import")


def _moment(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value!r}") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def add_commands(commands: Any) -> None:
    """Adds the two subcommands to the ``agenttrace`` parser's subparsers."""
    export = commands.add_parser(
        "export",
        help="write a project's traces, spans and annotations to JSONL or Parquet files",
        description="Writes the traces of a project that started in [--since, --until) (UTC"
        " when no offset is given), all their spans and annotations, and a manifest.json, to"
        " a directory or fsspec URL (s3:// needs 'pip install s3fs', gs:// 'pip install gcsfs').",
    )
    export.add_argument("--project", required=True, help="the project's name")
    export.add_argument("--since", type=_moment, help="first trace start time, ISO 8601")
    export.add_argument("--until", type=_moment, help="end of the range (excluded), ISO 8601")
    export.add_argument("--format", choices=DATA_FORMATS, default="jsonl", dest="data_format")
    export.add_argument("--to", required=True, dest="destination", help="a directory or URL")
    export.add_argument(
        "--page-rows", type=_positive, default=DEFAULT_PAGE_ROWS, help="rows per page"
    )
    export.add_argument("--data-dir")
    load = commands.add_parser(
        "import",
        help="read an export back into a project (created if missing)",
        description="Reads the files of 'agenttrace export' (either format) into a project."
        " Refuses a project that already holds any of the traces unless --merge is given.",
    )
    load.add_argument("--project", required=True, help="the project's name")
    load.add_argument("--from", required=True, dest="source", help="the export's directory or URL")
    load.add_argument(
        "--merge", action="store_true", help="upsert into traces the project already holds"
    )
    load.add_argument(
        "--batch-rows", type=_positive, default=DEFAULT_BATCH_ROWS, help="rows per batch"
    )
    load.add_argument("--data-dir")


class _Bar:
    """A tqdm bar of spans (its rate is spans/s) on standard error."""

    def __init__(self, verb: str) -> None:
        self._verb = verb
        self._bar: tqdm[Any] | None = None

    def started(self, traces: int, spans: int) -> None:
        self._bar = tqdm(
            total=spans, unit=" spans", unit_scale=True, desc=self._verb, file=sys.stderr
        )

    def page(self, table: str, rows: int) -> None:
        if table == "spans" and self._bar is not None:
            self._bar.update(rows)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


async def _run(url: str, args: argparse.Namespace, bar: _Bar) -> str:
    engine = create_engine(url, pool_size=2)
    try:
        if args.command == "export":
            done = await export_project(
                engine,
                project=args.project,
                destination=args.destination,
                data_format=args.data_format,
                since=args.since,
                until=args.until,
                page_rows=args.page_rows,
                progress=bar,
            )
            return (
                f"exported {done.traces:,} traces, {done.spans:,} spans and"
                f" {done.annotations:,} annotations of project '{done.project}' to"
                f" {done.destination} ({done.data_format}) in {done.seconds:.1f} s"
                f" ({done.spans_per_second:,.0f} spans/s)"
            )
        loaded = await import_project(
            engine,
            project=args.project,
            source=args.source,
            merge=args.merge,
            batch_rows=args.batch_rows,
            progress=bar,
        )
        created = (
            f"\nCreated project '{loaded.project}'. API key (shown once): {loaded.api_key}"
            if loaded.api_key
            else ""
        )
        return (
            f"imported {loaded.traces:,} traces, {loaded.spans:,} spans and"
            f" {loaded.annotations:,} annotations from {loaded.source} ({loaded.data_format})"
            f" into project '{loaded.project}' in {loaded.seconds:.1f} s"
            f" ({loaded.spans_per_second:,.0f} spans/s){created}"
        )
    finally:
        await engine.dispose()


def run_command(settings: Settings, args: argparse.Namespace) -> None:
    """Runs ``agenttrace export`` or ``agenttrace import``; exits with the error's message
    on a user error (no such project, a damaged export, traces already there...)."""
    bar = _Bar(args.command)
    with database_url(settings) as url:
        upgrade(url)
        try:
            summary = asyncio.run(_run(url, args, bar))
        except UserError as exc:
            bar.close()
            sys.exit(f"error: {exc.detail}")
        bar.close()
    print(summary)
