from __future__ import annotations

import enum

import strawberry


@strawberry.enum(description="The file format of an export (docs/operations.md).")
class ExportFormat(enum.Enum):
    JSONL = "jsonl"
    PARQUET = "parquet"
