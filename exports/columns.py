"""Which columns an export file holds, and how each value is written and read back.

The columns come from the table definitions (storage/tables.py), not from a list here, so
a column added to ``spans`` or ``traces`` is exported and imported without a change to
this package; a column of a type no codec below knows stops the export with its name
rather than being dropped. ``project_id`` is left out: the manifest names the project,
and an import writes into the project it is given.

Ids are written as the APIs show them: trace ids as 32 hex characters, span ids as 16
(storage/otel_ids.py). Timestamps keep their microseconds (ISO 8601 in UTC in JSONL,
``timestamp[us, UTC]`` in Parquet). JSONB values are copied as PostgreSQL prints them,
so nothing is re-encoded on the way out.
"""

from __future__ import annotations

import enum
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa
from sqlalchemy import Boolean, DateTime, Float, Integer, String, Table, Uuid
from sqlalchemy.dialects.postgresql import ARRAY, JSON, JSONB
from sqlmodel import SQLModel

import storage.tables  # noqa: F401  (registers the tables in SQLModel.metadata)
from exports.errors import InvalidExport
from storage.otel_ids import InvalidId, span_id_from_hex, span_id_to_hex, trace_id_from_hex

SPAN_ID_COLUMNS = frozenset({"span_id", "parent_span_id", "root_span_id"})
"""BIGINT columns that hold OTel span ids (the others, like token counts, are numbers)."""
TRACE_ID_COLUMNS = frozenset({"trace_id"})
"""UUID columns that hold OTel trace ids (others, like an annotation's id, are UUIDs)."""
SERVER_TIMESTAMPS = frozenset({"created_at", "updated_at"})
"""Kept by the database itself; exported for reference, and restored where an import
can (traces and annotations), not for spans (see import_.py)."""
PROJECT_COLUMN = "project_id"


class Kind(enum.Enum):
    TRACE_ID = "trace_id"
    SPAN_ID = "span_id"
    UUID = "uuid"
    TIMESTAMP = "timestamp"
    JSON = "json"
    TEXT_ARRAY = "text_array"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    TEXT = "text"


_ARROW_TYPES: dict[Kind, pa.DataType] = {
    Kind.TRACE_ID: pa.string(),
    Kind.SPAN_ID: pa.string(),
    Kind.UUID: pa.string(),
    Kind.TIMESTAMP: pa.timestamp("us", tz="UTC"),
    Kind.JSON: pa.string(),  # JSON text: Parquet readers differ on JSON logical types
    Kind.TEXT_ARRAY: pa.list_(pa.string()),
    Kind.INT: pa.int64(),
    Kind.FLOAT: pa.float64(),
    Kind.BOOL: pa.bool_(),
    Kind.TEXT: pa.string(),
}

# JSON has no NaN or infinity; a double column may hold them.
_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    name: str
    kind: Kind
    nullable: bool

    @property
    def arrow_type(self) -> pa.DataType:
        return _ARROW_TYPES[self.kind]

    def select_sql(self, alias: str) -> str:
        """The SELECT expression: JSONB as PostgreSQL's own text, copied byte for byte."""
        quoted = f'{alias}."{self.name}"'
        if self.kind is Kind.JSON:
            return f'CAST({quoted} AS text) AS "{self.name}"'
        return f'{quoted} AS "{self.name}"'

    # What the database gives (JSON as text) -> a JSONL value.
    def to_jsonl(self, value: Any) -> Any:
        if value is None:
            return None
        match self.kind:
            case Kind.JSON:
                return orjson.Fragment(value)
            case Kind.TIMESTAMP:
                return _iso(value)
            case Kind.TRACE_ID:
                return value.hex
            case Kind.SPAN_ID:
                return span_id_to_hex(value)
            case Kind.UUID:
                return str(value)
            case Kind.FLOAT if not math.isfinite(value):
                return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
            case _:
                return value

    # What the database gives -> a Parquet value of arrow_type.
    def to_arrow(self, value: Any) -> Any:
        if value is None or self.kind in (Kind.JSON, Kind.TIMESTAMP, Kind.FLOAT):
            return value
        return self.to_jsonl(value)

    # A value read from either file -> what the database takes.
    def from_file(self, value: Any, *, json_as_text: bool) -> Any:
        if value is None:
            if not self.nullable:
                raise InvalidExport(f"column {self.name} is null, which it may never be")
            return None
        try:
            match self.kind:
                case Kind.JSON:
                    return orjson.loads(value) if json_as_text else value
                case Kind.TIMESTAMP:
                    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
                    if moment.tzinfo is None:
                        raise ValueError("a timestamp without a time zone")
                    return moment.astimezone(UTC)
                case Kind.TRACE_ID:
                    return trace_id_from_hex(value)
                case Kind.SPAN_ID:
                    return span_id_from_hex(value)
                case Kind.UUID:
                    return uuid.UUID(value)
                case Kind.FLOAT if isinstance(value, str):
                    return _SPECIAL_FLOATS[value]
                case Kind.FLOAT:
                    return float(value)
                case Kind.TEXT_ARRAY:
                    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                        raise ValueError("not a list of strings")
                    return value
                case Kind.INT if isinstance(value, bool) or not isinstance(value, int):
                    raise ValueError("not an integer")
                case Kind.BOOL if not isinstance(value, bool):
                    raise ValueError("not a boolean")
                case Kind.TEXT if not isinstance(value, str):
                    raise ValueError("not a string")
                case _:
                    return value
        except (ValueError, TypeError, KeyError, InvalidId, orjson.JSONDecodeError) as exc:
            raise InvalidExport(f"column {self.name}: cannot read {value!r:.80}: {exc}") from None


def _iso(moment: datetime) -> str:
    # Always six digits of microseconds, always UTC: one spelling per instant.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _kind(table: Table, name: str) -> Kind:
    column_type = table.columns[name].type
    if isinstance(column_type, JSON | JSONB):
        return Kind.JSON
    if isinstance(column_type, ARRAY):
        if not isinstance(column_type.item_type, String):
            raise TypeError(f"{table.name}.{name}: only text arrays can be exported")
        return Kind.TEXT_ARRAY
    if isinstance(column_type, DateTime):
        return Kind.TIMESTAMP
    if isinstance(column_type, Uuid):
        return Kind.TRACE_ID if name in TRACE_ID_COLUMNS else Kind.UUID
    if isinstance(column_type, Integer):  # BigInteger and SmallInteger too
        return Kind.SPAN_ID if name in SPAN_ID_COLUMNS else Kind.INT
    if isinstance(column_type, Float):  # Double too
        return Kind.FLOAT
    if isinstance(column_type, Boolean):
        return Kind.BOOL
    if isinstance(column_type, String):  # Text too
        return Kind.TEXT
    raise TypeError(f"{table.name}.{name}: no export format for {column_type!r}")


def table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


def file_columns(name: str) -> tuple[ColumnSpec, ...]:
    """The columns of table ``name`` in an export file, in the table's order."""
    found = table(name)
    return tuple(
        ColumnSpec(str(column.name), _kind(found, column.name), bool(column.nullable))
        for column in found.columns
        if column.name != PROJECT_COLUMN
    )


def decode_row(
    specs: Mapping[str, ColumnSpec], row: Mapping[str, Any], *, json_as_text: bool
) -> dict[str, Any]:
    """One row read from a file, in the database's types. Every row holds exactly the
    columns of ``specs`` (the file's, as its manifest lists them); InvalidExport names an
    unknown or missing one, or a value that cannot be read."""
    decoded = {}
    for name, value in row.items():
        spec = specs.get(name)
        if spec is None:
            raise InvalidExport(f"unknown column {name!r}: the manifest does not list it")
        decoded[name] = spec.from_file(value, json_as_text=json_as_text)
    if len(decoded) != len(specs):
        missing = sorted(specs.keys() - decoded.keys())
        raise InvalidExport(f"a row lacks the columns {missing}")
    return decoded
