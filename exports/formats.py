"""The two file formats: JSONL (one JSON object per line) and Parquet (one row group per
page). Writers take one page of rows at a time and keep none of them; readers yield
batches of decoded rows, so neither side ever holds a whole table.

JSONL holds JSONB values as JSON values (``jq`` reads them); Parquet holds them as JSON
text in string columns, ids as hex strings, timestamps as ``timestamp[us, UTC]``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any, Protocol

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from exports.columns import ColumnSpec, decode_row
from exports.errors import InvalidExport
from exports.location import HashingWriter
from exports.manifest import DataFormat

EXTENSIONS: dict[DataFormat, str] = {"jsonl": "jsonl", "parquet": "parquet"}


class PageWriter(Protocol):
    def write_page(self, rows: Sequence[Mapping[Any, Any]]) -> None: ...

    def close(self) -> None: ...


class JsonlWriter:
    def __init__(self, out: HashingWriter, columns: Sequence[ColumnSpec]) -> None:
        self._out = out
        self._columns = columns

    def write_page(self, rows: Sequence[Mapping[Any, Any]]) -> None:
        lines = [
            orjson.dumps({c.name: c.to_jsonl(row[c.name]) for c in self._columns}) for row in rows
        ]
        if lines:
            self._out.write(b"\n".join(lines) + b"\n")

    def close(self) -> None:
        self._out.flush()


class ParquetPageWriter:
    def __init__(self, out: HashingWriter, columns: Sequence[ColumnSpec]) -> None:
        self._columns = columns
        self._schema = pa.schema(
            [pa.field(c.name, c.arrow_type, nullable=c.nullable) for c in columns]
        )
        self._writer = pq.ParquetWriter(out, self._schema, compression="zstd")

    def write_page(self, rows: Sequence[Mapping[Any, Any]]) -> None:
        if not rows:
            return
        arrays = [
            pa.array([c.to_arrow(row[c.name]) for row in rows], type=c.arrow_type)
            for c in self._columns
        ]
        page = pa.Table.from_arrays(arrays, schema=self._schema)
        # One row group per page: a reader can stream the file a page at a time too.
        self._writer.write_table(page, row_group_size=len(rows))

    def close(self) -> None:
        self._writer.close()


def page_writer(
    data_format: DataFormat, out: HashingWriter, columns: Sequence[ColumnSpec]
) -> PageWriter:
    if data_format == "parquet":
        return ParquetPageWriter(out, columns)
    return JsonlWriter(out, columns)


def read_batches(
    data_format: DataFormat,
    handle: IO[bytes],
    columns: Sequence[ColumnSpec],
    batch_rows: int,
) -> Iterator[list[dict[str, Any]]]:
    """The file's rows in the database's types, ``batch_rows`` at a time. InvalidExport
    names the first row or value that cannot be read."""
    specs = {c.name: c for c in columns}
    if data_format == "parquet":
        yield from _parquet_batches(handle, specs, batch_rows)
    else:
        yield from _jsonl_batches(handle, specs, batch_rows)


def _jsonl_batches(
    handle: IO[bytes], specs: Mapping[str, ColumnSpec], batch_rows: int
) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise InvalidExport(f"line {number} is not JSON: {exc}") from None
        if not isinstance(row, dict):
            raise InvalidExport(f"line {number} is not a JSON object")
        batch.append(decode_row(specs, row, json_as_text=False))
        if len(batch) >= batch_rows:
            yield batch
            batch = []
    if batch:
        yield batch


def _parquet_batches(
    handle: IO[bytes], specs: Mapping[str, ColumnSpec], batch_rows: int
) -> Iterator[list[dict[str, Any]]]:
    try:
        parquet = pq.ParquetFile(handle)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidExport(f"not a Parquet file: {exc}") from None
    for record_batch in parquet.iter_batches(batch_size=batch_rows):
        yield [decode_row(specs, row, json_as_text=True) for row in record_batch.to_pylist()]
