"""manifest.json: what an export holds, so an import can check what it reads.

Written last, after every data file is closed: a directory without one is an export that
did not finish. It names the format and its version, the project and time range, the
AgentTrace version that wrote it, and per file (traces, spans, annotations) its name,
columns, row count, size and SHA-256.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal, cast

import orjson

from exports.errors import InvalidExport

MANIFEST_NAME = "manifest.json"
FORMAT_NAME = "agenttrace-export"
FORMAT_VERSION = 1
"""Raised when a file's layout changes in a way an older importer could misread."""

DataFormat = Literal["jsonl", "parquet"]
DATA_FORMATS: tuple[DataFormat, ...] = ("jsonl", "parquet")
TABLES = ("traces", "spans", "annotations")
"""The files of an export, in the order an import reads them (spans need their traces
known first, annotations their spans)."""


@dataclass(frozen=True, slots=True)
class FileEntry:
    name: str
    columns: list[str]
    rows: int
    bytes: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Manifest:
    project: str
    since: str | None
    until: str | None
    data_format: DataFormat
    agenttrace_version: str
    exported_at: str
    files: dict[str, FileEntry]
    format: str = FORMAT_NAME
    format_version: int = FORMAT_VERSION

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self), option=orjson.OPT_INDENT_2)

    @classmethod
    def from_json(cls, data: bytes) -> Manifest:
        """Parses and checks a manifest; InvalidExport names what is wrong."""
        try:
            raw = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise InvalidExport(f"{MANIFEST_NAME} is not JSON: {exc}") from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT_NAME:
            raise InvalidExport(f"{MANIFEST_NAME} is not an AgentTrace export manifest")
        if raw.get("format_version") != FORMAT_VERSION:
            raise InvalidExport(
                f"export format version {raw.get('format_version')!r} is not supported"
                f" (this AgentTrace reads version {FORMAT_VERSION})"
            )
        data_format = raw.get("data_format")
        if data_format not in DATA_FORMATS:
            raise InvalidExport(
                f"unknown data format {data_format!r}: expected one of {', '.join(DATA_FORMATS)}"
            )
        try:
            files = {
                table: FileEntry(**cast(dict[str, Any], entry))
                for table, entry in raw["files"].items()
            }
            manifest = cls(**{**raw, "files": files})
        except (KeyError, TypeError, AttributeError) as exc:
            raise InvalidExport(f"{MANIFEST_NAME} is incomplete or malformed: {exc}") from None
        missing = [t for t in ("traces", "spans") if t not in manifest.files]
        if missing:
            raise InvalidExport(f"{MANIFEST_NAME} lists no {' or '.join(missing)} file")
        return manifest


def iso_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
