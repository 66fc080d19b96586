"""Trace and span filters, and their compilation to parameterised SQL.

The specs here are plain dataclasses so that GraphQL inputs, REST query parameters and
subscriptions all build the same thing and share one compiler. User values only ever
travel as bind parameters; the SQL text is built from fixed fragments.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agenttrace.errors import InvalidArgument

TRACE_STATUSES = frozenset({"OK", "ERROR", "RUNNING"})
SPAN_STATUSES = frozenset({"UNSET", "OK", "ERROR"})


EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
"""No span starts before the Unix epoch (ingest takes Unix nanoseconds)."""
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
"""Far enough from year 9999 that a day bucket after any bound still exists."""


def to_utc(moment: datetime) -> datetime:
    """``moment`` in UTC. Raises ValueError if it has no time zone, or if it falls outside
    1970-01-01 to 9000-01-01 (Python and the database driver cannot represent the far
    ends, e.g. 0001-01-01T00:00+05:00, and a bucket must fit after any bound)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("needs a time zone, e.g. 2026-01-01T00:00Z")
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not EARLIEST <= utc <= LATEST:
        raise ValueError("is out of range: it must fall between 1970-01-01 and 9000-01-01")
    return utc


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Start times in ``[start, end)``; either bound may be open. Raises InvalidArgument,
    naming the bound, unless each has a time zone and is representable in UTC, and
    unless ``start`` is before ``end``: every caller (GraphQL, REST, analytics) builds
    one, so this is the one place bounds are checked."""

    start: datetime | None = None
    end: datetime | None = None

    def __post_init__(self) -> None:
        for what, bound in (("start", self.start), ("end", self.end)):
            if bound is None:
                continue
            try:
                to_utc(bound)
            except ValueError as exc:
                raise InvalidArgument(f"time range {what} {bound.isoformat()} {exc}") from None
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise InvalidArgument("time range start must be before its end")


@dataclass(frozen=True, slots=True)
class NumberRange:
    """Values in ``[min, max]``; either bound may be open."""

    min: float | None = None
    max: float | None = None


@dataclass(frozen=True, slots=True)
class TextMatch:
    equals: str | None = None
    contains: str | None = None


@dataclass(frozen=True, slots=True)
class KeyValue:
    key: str
    value: str


@dataclass(frozen=True, slots=True)
class AnnotationCondition:
    """Has an annotation named ``name`` with, when given, a score in ``score``, one of
    ``labels`` and one of ``sources``."""

    name: str
    score: NumberRange | None = None
    labels: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Conditions:
    """What both trace and span filters can ask. On a trace, ``kinds``, ``models`` and
    ``attributes`` mean "has a span with ..."; ``annotations`` mean "has an annotation,
    on the trace or on one of its spans, matching each"."""

    time: TimeRange | None = None
    statuses: tuple[str, ...] = ()
    name: TextMatch | None = None
    kinds: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    tags_any: tuple[str, ...] = ()
    tags_all: tuple[str, ...] = ()
    metadata: tuple[KeyValue, ...] = ()
    attributes: tuple[KeyValue, ...] = ()
    user_ids: tuple[str, ...] = ()
    session_ids: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()
    duration_ms: NumberRange | None = None
    cost: NumberRange | None = None
    has_error: bool | None = None
    annotations: tuple[AnnotationCondition, ...] = ()
    trace_ids: tuple[uuid.UUID, ...] = ()


@dataclass(slots=True)
class Where:
    """A conjunction of SQL conditions with their bind parameters."""

    clauses: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def bind(self, value: Any) -> str:
        """The placeholder for ``value``. Raises InvalidArgument if it is text (or a list
        of texts) holding a NUL character, which PostgreSQL cannot store or compare."""
        for item in value if isinstance(value, list | tuple) else (value,):
            _check_text(item)
        name = f"w{len(self.params)}"
        self.params[name] = value
        return f":{name}"

    def add(self, clause: str) -> None:
        self.clauses.append(clause)

    @property
    def sql(self) -> str:
        return " AND ".join(self.clauses) if self.clauses else "TRUE"


def _check_text(value: object) -> None:
    # PostgreSQL text cannot hold NUL: it would refuse the whole statement.
    if isinstance(value, str) and "\x00" in value:
        raise InvalidArgument("filter values may not contain NUL characters (\\u0000)")


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _text_array(where: Where, values: tuple[str, ...]) -> str:
    return f"CAST({where.bind(list(values))} AS text[])"


def _range(where: Where, expr: str, bounds: NumberRange | None) -> None:
    if bounds is None:
        return
    if bounds.min is not None:
        where.add(f"{expr} >= {where.bind(bounds.min)}")
    if bounds.max is not None:
        where.add(f"{expr} <= {where.bind(bounds.max)}")


def _common(where: Where, c: Conditions, alias: str) -> None:
    """The conditions that read the same columns on ``traces`` and ``spans``."""
    if c.time is not None:
        if c.time.start is not None:
            where.add(f"{alias}.start_time >= {where.bind(c.time.start)}")
        if c.time.end is not None:
            where.add(f"{alias}.start_time < {where.bind(c.time.end)}")
    if c.statuses:
        where.add(f"{alias}.status = ANY({_text_array(where, c.statuses)})")
    if c.name is not None:
        if c.name.equals is not None:
            where.add(f"{alias}.name = {where.bind(c.name.equals)}")
        if c.name.contains is not None:
            where.add(f"{alias}.name ILIKE {where.bind(_like_pattern(c.name.contains))}")
    if c.tags_any:
        where.add(f"{alias}.tags && {_text_array(where, c.tags_any)}")
    if c.tags_all:
        where.add(f"{alias}.tags @> {_text_array(where, c.tags_all)}")
    for pair in c.metadata:
        where.add(f"({alias}.metadata ->> {where.bind(pair.key)}) = {where.bind(pair.value)}")
    for column, values in (
        ("user_id", c.user_ids),
        ("session_id", c.session_ids),
        ("environment", c.environments),
    ):
        if values:
            where.add(f"{alias}.{column} = ANY({_text_array(where, values)})")
    if c.trace_ids:
        where.add(f"{alias}.trace_id = ANY(CAST({where.bind(list(c.trace_ids))} AS uuid[]))")


def _span_only(where: Where, c: Conditions, alias: str) -> list[str]:
    """Conditions on span columns, as a list so traces can wrap them in EXISTS."""
    inner = Where(params=where.params)
    if c.kinds:
        inner.add(f"{alias}.kind = ANY({_text_array(inner, c.kinds)})")
    if c.models:
        inner.add(f"{alias}.model = ANY({_text_array(inner, c.models)})")
    for pair in c.attributes:
        inner.add(f"({alias}.attributes ->> {inner.bind(pair.key)}) = {inner.bind(pair.value)}")
    return inner.clauses


def _annotations(where: Where, c: Conditions, target: str) -> None:
    """One EXISTS per condition; ``target`` ties the annotation to the outer row."""
    for condition in c.annotations:
        inner = Where(params=where.params)
        inner.add(f"a.name = {inner.bind(condition.name)}")
        _range(inner, "a.score", condition.score)
        if condition.labels:
            inner.add(f"a.label = ANY({_text_array(inner, condition.labels)})")
        if condition.sources:
            inner.add(f"a.source = ANY({_text_array(inner, condition.sources)})")
        where.add(f"EXISTS (SELECT 1 FROM annotations a WHERE {target} AND {inner.sql})")


SPAN_DURATION_MS = (
    "CAST(EXTRACT(EPOCH FROM (s.end_time - s.start_time)) * 1000 AS double precision)"
)


def trace_where(project_id: uuid.UUID, c: Conditions) -> Where:
    """WHERE for ``traces t`` of one project."""
    where = Where()
    where.add(f"t.project_id = {where.bind(project_id)}")
    _common(where, c, "t")
    span_clauses = _span_only(where, c, "s")
    if span_clauses:
        where.add(
            "EXISTS (SELECT 1 FROM spans s WHERE s.project_id = t.project_id"
            f" AND s.trace_id = t.trace_id AND {' AND '.join(span_clauses)})"
        )
    _range(where, "t.duration_ms", c.duration_ms)
    _range(where, "t.cost", c.cost)
    if c.has_error is not None:
        where.add("t.error_count > 0" if c.has_error else "t.error_count = 0")
    _annotations(where, c, "a.project_id = t.project_id AND a.trace_id = t.trace_id")
    return where


def span_where(project_id: uuid.UUID, c: Conditions) -> Where:
    """WHERE for ``spans s`` of one project."""
    where = Where()
    where.add(f"s.project_id = {where.bind(project_id)}")
    _common(where, c, "s")
    where.clauses += _span_only(where, c, "s")
    _range(where, SPAN_DURATION_MS, c.duration_ms)
    _range(where, "s.cost", c.cost)
    if c.has_error is not None:
        where.add("s.status = 'ERROR'" if c.has_error else "s.status <> 'ERROR'")
    _annotations(
        where,
        c,
        "a.project_id = s.project_id AND a.trace_id = s.trace_id AND a.span_id = s.span_id",
    )
    return where
