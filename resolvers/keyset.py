"""Runs one keyset-paginated SELECT: the shared part of the trace and span lists."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from resolvers.filters import Where
from resolvers.paging import Page, Sort, SortDirection, SortField, decode_cursor, encode_cursor
from resolvers.reading import reading

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class KeysetQuery:
    table: str
    """``traces t`` or ``spans s``"""
    columns: str
    sort_expressions: dict[SortField, str]
    """Each a double precision expression, except START_TIME (timestamptz)."""
    key_columns: Sequence[tuple[str, str]]
    """The unique tie-breaker: (column, SQL type) pairs."""


async def fetch_page(
    engine: AsyncEngine,
    query: KeysetQuery,
    where: Where,
    sort: Sort,
    size: int,
    after: str | None,
    build: Callable[[RowMapping], T],
) -> Page[T]:
    expr = query.sort_expressions[sort.field]
    value_type = "timestamptz" if sort.field is SortField.START_TIME else "double precision"
    direction = "DESC" if sort.direction is SortDirection.DESC else "ASC"
    key_sql = ", ".join(column for column, _ in query.key_columns)
    if after is not None:
        value, key = decode_cursor(after, sort, [sql_type for _, sql_type in query.key_columns])
        bound = [f"CAST({where.bind(value)} AS {value_type})"] + [
            f"CAST({where.bind(k)} AS {sql_type})"
            for k, (_, sql_type) in zip(key, query.key_columns, strict=True)
        ]
        op = "<" if sort.direction is SortDirection.DESC else ">"
        where.add(f"({expr}, {key_sql}) {op} ({', '.join(bound)})")
    order = ", ".join(f"{c} {direction}" for c in [expr, *(c for c, _ in query.key_columns)])
    sql = (
        f"SELECT {query.columns}, {expr} AS sort_value FROM {query.table}"
        f" WHERE {where.sql} ORDER BY {order} LIMIT {size + 1}"
    )
    async with reading(engine) as conn:
        rows = (await conn.execute(text(sql), where.params)).mappings().all()
    page = rows[:size]
    return Page(
        items=[build(row) for row in page],
        cursors=[
            encode_cursor(sort, row["sort_value"], [_json_key(row[c]) for c in _names(query)])
            for row in page
        ],
        has_next_page=len(rows) > size,
        has_previous_page=after is not None,
    )


def _names(query: KeysetQuery) -> list[str]:
    return [column.split(".")[-1] for column, _ in query.key_columns]


def _json_key(value: Any) -> Any:
    return value if isinstance(value, int | float | str) else str(value)
