"""Keyset pagination: sort orders, opaque cursors and pages.

A cursor holds the sort value and the unique key of the last row a page returned; the next
page asks for rows strictly after it in the same order. Unlike OFFSET this stays exact
while new rows arrive, and costs the same on page 1,000 as on page 1.
"""

from __future__ import annotations

import base64
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

import orjson

from agenttrace.errors import InvalidArgument
from resolvers.filters import to_utc

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


_NOT_OURS = "cursor is not one this API returned"
_BIGINT = range(-(2**63), 2**63)


def _uuid_key(value: Any) -> uuid.UUID:
    if not isinstance(value, str):
        raise ValueError("a uuid key must be a string")
    return uuid.UUID(value)


def _bigint_key(value: Any) -> int:
    # bool is an int to Python, never to a cursor we made.
    if isinstance(value, bool) or not isinstance(value, int) or value not in _BIGINT:
        raise ValueError("a bigint key must be an integer in range")
    return value


_KEY_PARSERS: dict[str, Callable[[Any], Any]] = {"uuid": _uuid_key, "bigint": _bigint_key}
"""Per SQL type of a key column: the key element as that type takes it, or ValueError."""


def _sort_value(value: Any, field: SortField) -> Any:
    """The sort value as its SQL type takes it; ValueError if it cannot be one."""
    if field is SortField.START_TIME:
        if not isinstance(value, str):
            raise ValueError(field)
        return to_utc(datetime.fromisoformat(value))
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(field)
    number = float(value)  # OverflowError (an ArithmeticError) past double precision
    if not math.isfinite(number):
        raise ValueError(field)
    return number


def decode_cursor(cursor: str, sort: Sort, key_types: Sequence[str]) -> tuple[Any, list[Any]]:
    """The sort value and key after which the next page starts, each checked against
    its SQL type (``key_types``: one per key column, "uuid" or "bigint"), so a forged
    cursor is a clear InvalidArgument rather than a database error."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = orjson.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError):
        raise InvalidArgument(_NOT_OURS) from None
    if not isinstance(payload, list) or len(payload) < 2 or not isinstance(payload[0], str):
        raise InvalidArgument(_NOT_OURS)
    token, value, *key = payload
    if token != sort.token:
        raise InvalidArgument(
            f"cursor was made for sort {token}, not {sort.token}: keep the sort while paging"
        )
    if len(key) != len(key_types):
        raise InvalidArgument("cursor belongs to another list")
    try:
        return _sort_value(value, sort.field), [
            _KEY_PARSERS[t](k) for k, t in zip(key, key_types, strict=True)
        ]
    except (ValueError, ArithmeticError):
        raise InvalidArgument(_NOT_OURS) from None
