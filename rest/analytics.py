"""``GET /api/v1/analytics``: the project's time series, totals and groups, from the same
query code as GraphQL's ``Project.analytics``."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request

from agenttrace.errors import InvalidArgument
from resolvers import analytics
from resolvers.analytics import GroupBy, Measures, Scope, TimeBucket
from resolvers.filters import Conditions, TimeRange
from rest.reader import ProjectParam, read_project, reader

router = APIRouter(prefix="/api/v1", tags=["query"])

Strings = Annotated[list[str] | None, Query()]
Choice = TypeVar("Choice", TimeBucket, GroupBy)


def _choice(kind: type[Choice], value: str, what: str) -> Choice:
    try:
        return kind(value.upper())
    except ValueError:
        names = ", ".join(m.name.lower() for m in kind)
        raise InvalidArgument(f"{what} must be one of {names}, got {value!r}") from None


def _measures_json(m: Measures) -> dict[str, Any]:
    return {
        "trace_count": m.trace_count,
        "error_trace_count": m.error_trace_count,
        "trace_error_rate": m.trace_error_rate,
        "trace_latency_p50_ms": m.trace_latency.p50,
        "trace_latency_p95_ms": m.trace_latency.p95,
        "trace_latency_p99_ms": m.trace_latency.p99,
        "span_count": m.span_count,
        "error_span_count": m.error_span_count,
        "error_rate": m.error_rate,
        "input_tokens": m.input_tokens,
        "output_tokens": m.output_tokens,
        "total_tokens": m.total_tokens,
        "cost": m.cost,
    }


def _group_json(g: analytics.Group) -> dict[str, Any]:
    return {
        "key": g.key,
        "span_count": g.span_count,
        "error_count": g.error_count,
        "error_rate": g.error_rate,
        "span_latency_p50_ms": g.latency.p50,
        "span_latency_p95_ms": g.latency.p95,
        "span_latency_p99_ms": g.latency.p99,
        "input_tokens": g.input_tokens,
        "output_tokens": g.output_tokens,
        "total_tokens": g.total_tokens,
        "cost": g.cost,
    }


@router.get(
    "/analytics",
    summary="Counts, error rates, trace latency, tokens and cost over [start, end)",
    description="Buckets (empty ones included) and totals; with group_by, the spans grouped by"
    " model, kind or name. Trace measures count traces by their start time, span measures"
    " spans by theirs; tokens and cost count LLM and EMBEDDING spans only. Token sums are"
    " plain JSON integers here (GraphQL returns them as Float).",
)
async def get_analytics(
    request: Request,
    start: datetime | None = None,
    end: datetime | None = None,
    bucket: str = "hour",
    group_by: Annotated[str | None, Query(description="model, kind or name")] = None,
    limit: Annotated[int, Query(description="How many groups")] = 20,
    span_kind: Strings = None,
    model: Strings = None,
    status: Strings = None,
    environment: Strings = None,
    user_id: Strings = None,
    session_id: Strings = None,
    has_error: bool | None = None,
    project: ProjectParam = None,
) -> dict[str, Any]:
    engine, viewer = await reader(request)
    conditions = Conditions(
        kinds=tuple(k.upper() for k in span_kind or ()),
        models=tuple(model or ()),
        statuses=tuple(s.upper() for s in status or ()),
        environments=tuple(environment or ()),
        user_ids=tuple(user_id or ()),
        session_ids=tuple(session_id or ()),
        has_error=has_error,
    )
    scope = Scope.of(read_project(viewer, project), TimeRange(start, end), conditions)
    width = _choice(TimeBucket, bucket, "bucket")
    by = _choice(GroupBy, group_by, "group_by") if group_by is not None else None
    # Checked before any query starts, so a refusal leaves none running.
    analytics.bucket_starts(scope.start, scope.end, width)
    analytics.check_limit(limit)
    series, overall, grouped = await asyncio.gather(
        analytics.time_series(engine, scope, width),
        analytics.totals(engine, scope),
        analytics.groups(engine, scope, by, limit) if by is not None else _no_groups(),
    )
    return {
        "bucket": width.name.lower(),
        "buckets": [
            {"start": b.start.isoformat(), "end": b.end.isoformat()} | _measures_json(b.measures)
            for b in series
        ],
        "totals": _measures_json(overall),
        "groups": [_group_json(g) for g in grouped] if by is not None else None,
    }


async def _no_groups() -> list[analytics.Group]:
    return []
