"""Keyset pagination: sort orders, opaque cursors and pages.

A cursor holds the sort value and the unique key of the last row a page returned; the next
page asks for rows strictly after it in the same order. Unlike OFFSET this stays exact
while new rows arrive, and costs the same on page 1,000 as on page 1.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

import orjson

from agenttrace.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200

T = TypeVar("T")


class SortField(StrEnum):
    START_TIME = "START_TIME"
    DURATION = "DURATION"
    COST = "COST"
    TOKENS = "TOKENS"


class SortDirection(StrEnum):
    ASC = "ASC"
    DESC = "DESC"


@dataclass(frozen=True, slots=True)
class Sort:
    field: SortField = SortField.START_TIME
    direction: SortDirection = SortDirection.DESC

    @property
    def token(self) -> str:
        return f"{self.field}:{self.direction}"


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool

    @property
    def end_cursor(self) -> str | None:
        return self.cursors[-1] if self.cursors else None


def page_size(first: int | None) -> int:
    """``first`` checked against the cap; a clear error rather than a silent clamp."""
    if first is None:
        return DEFAULT_PAGE_SIZE
    if not 1 <= first <= MAX_PAGE_SIZE:
        raise InvalidArgument(f"first must be between 1 and {MAX_PAGE_SIZE}, got {first}")
    return first


def encode_cursor(sort: Sort, value: Any, key: list[Any]) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    payload = orjson.dumps([sort.token, value, *key])
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(cursor: str, sort: Sort) -> tuple[Any, list[Any]]:
    """The sort value and key after which the next page starts."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        token, value, *key = orjson.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError):
        raise InvalidArgument("cursor is not one this API returned") from None
    if token != sort.token:
        raise InvalidArgument(
            f"cursor was made for sort {token}, not {sort.token}: keep the sort while paging"
        )
    if sort.field is SortField.START_TIME:
        try:
            value = datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise InvalidArgument("cursor is not one this API returned") from None
    elif not isinstance(value, int | float):
        raise InvalidArgument("cursor is not one this API returned")
    return value, key
