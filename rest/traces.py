"""The seed's REST reads: ``GET /api/v1/traces[/{id}]`` and ``GET /api/v1/projects``.
They call the same query code as GraphQL; only the JSON shape is theirs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request, Response

from access.permissions import Permission
from agenttrace.errors import InvalidArgument, NotFound
from cache.keys import trace_key
from cache.store import Cache
from graph.ids import parse_trace_id
from resolvers.filters import Conditions, KeyValue, NumberRange, TextMatch, TimeRange
from resolvers.paging import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Sort, SortDirection, SortField
from resolvers.projects import projects_by_ids
from resolvers.spans import spans_of_traces
from resolvers.traces import list_traces, traces_by_keys
from resolvers.tree import tree_order
from rest.json import span_json, trace_json
from rest.reader import ProjectParam, read_project, reader

router = APIRouter(prefix="/api/v1", tags=["query"])

TRACE_TTL_S = 30.0

Strings = Annotated[list[str] | None, Query()]


def _pairs(values: list[str] | None, what: str) -> tuple[KeyValue, ...]:
    pairs = []
    for value in values or ():
        key, sep, val = value.partition("=")
        if not sep or not key:
            raise InvalidArgument(f"{what} filter {value!r} must look like key=value")
        pairs.append(KeyValue(key, val))
    return tuple(pairs)


def _range(low: float | None, high: float | None) -> NumberRange | None:
    return None if low is None and high is None else NumberRange(low, high)


@router.get(
    "/traces/{trace_id}",
    summary="A trace with all its spans, in tree order",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
)
async def get_trace(trace_id: str, request: Request, project: ProjectParam = None) -> Response:
    engine, viewer = await reader(request)
    cache: Cache = request.app.state.cache
    key = (read_project(viewer, project), parse_trace_id(trace_id))
    cached = await cache.get("trace", trace_key(*key))
    if cached is not None:
        return Response(cached, media_type="application/json")
    trace = (await traces_by_keys(engine, [key])).get(key)
    if trace is None:
        raise NotFound(f"no trace {trace_id.lower()} in this project")
    spans = (await spans_of_traces(engine, [key]))[key]
    body = orjson.dumps(
        trace_json(trace)
        | {"spans": [span_json(e.span) | {"depth": e.depth} for e in tree_order(spans)]}
    )
    await cache.add(trace_key(*key), body, TRACE_TTL_S)
    return Response(body, media_type="application/json")


@router.get("/traces", summary="The project's traces, filtered, sorted, a page at a time")
async def get_traces(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
    sort: SortField = SortField.START_TIME,
    order: SortDirection = SortDirection.DESC,
    start_time_from: datetime | None = None,
    start_time_to: datetime | None = None,
    status: Strings = None,
    name: str | None = None,
    name_contains: str | None = None,
    span_kind: Strings = None,
    model: Strings = None,
    tag: Annotated[list[str] | None, Query(description="Has any of these tags")] = None,
    tag_all: Annotated[list[str] | None, Query(description="Has all of these tags")] = None,
    metadata: Annotated[list[str] | None, Query(description="key=value")] = None,
    attribute: Annotated[list[str] | None, Query(description="key=value on a span")] = None,
    user_id: Strings = None,
    session_id: Strings = None,
    environment: Strings = None,
    min_duration_ms: float | None = None,
    max_duration_ms: float | None = None,
    min_cost: float | None = None,
    max_cost: float | None = None,
    has_error: bool | None = None,
    project: ProjectParam = None,
) -> dict[str, Any]:
    engine, viewer = await reader(request)
    conditions = Conditions(
        time=TimeRange(start_time_from, start_time_to)
        if start_time_from or start_time_to
        else None,
        statuses=tuple(s.upper() for s in status or ()),
        name=TextMatch(name, name_contains) if name or name_contains else None,
        kinds=tuple(k.upper() for k in span_kind or ()),
        models=tuple(model or ()),
        tags_any=tuple(tag or ()),
        tags_all=tuple(tag_all or ()),
        metadata=_pairs(metadata, "metadata"),
        attributes=_pairs(attribute, "attribute"),
        user_ids=tuple(user_id or ()),
        session_ids=tuple(session_id or ()),
        environments=tuple(environment or ()),
        duration_ms=_range(min_duration_ms, max_duration_ms),
        cost=_range(min_cost, max_cost),
        has_error=has_error,
    )
    page = await list_traces(
        engine,
        read_project(viewer, project),
        conditions,
        Sort(sort, order),
        first=limit,
        after=cursor,
    )
    return {
        "items": [trace_json(t) for t in page.items],
        "next_cursor": page.end_cursor if page.has_next_page else None,
    }


@router.get("/projects", summary="The projects the caller may read")
async def get_projects(request: Request) -> dict[str, Any]:
    engine, viewer = await reader(request)
    readable = [p for p in viewer.project_ids if viewer.can(Permission.READ_TRACES, p)]
    found = await projects_by_ids(engine, sorted(readable))
    return {
        "items": [
            {"id": str(p.id), "name": p.name, "created_at": p.created_at.isoformat()}
            for p in found.values()
        ]
    }
