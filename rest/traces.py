"""``GET /api/v1/traces`` and ``GET /api/v1/traces/{trace_id}`` for a read-scoped key."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from ingest.auth import ApiKeyResolver
from resolvers.traces import MAX_PAGE_SIZE, InvalidCursor, list_traces, trace_with_spans
from storage.otel_ids import InvalidId, trace_id_from_hex

router = APIRouter(prefix="/api/v1", tags=["traces"])


async def _caller(request: Request) -> tuple[AsyncEngine, uuid.UUID]:
    keys: ApiKeyResolver = request.app.state.ingest.keys
    engine: AsyncEngine = request.app.state.engine
    return engine, await keys.project_for(request, "read")


@router.get("/traces/{trace_id}", summary="A trace with all its spans")
async def get_trace(trace_id: str, request: Request) -> dict[str, Any]:
    engine, project_id = await _caller(request)
    try:
        key = trace_id_from_hex(trace_id.lower())
    except InvalidId as exc:
        raise HTTPException(400, f"trace id {trace_id!r}: {exc}") from None
    trace = await trace_with_spans(engine, project_id, key)
    if trace is None:
        raise HTTPException(404, f"no trace {trace_id.lower()} in this project")
    return trace


@router.get("/traces", summary="The project's traces, newest first")
async def get_traces(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    engine, project_id = await _caller(request)
    try:
        page = await list_traces(engine, project_id, limit=limit, cursor=cursor)
    except InvalidCursor as exc:
        raise HTTPException(400, str(exc)) from None
    return {"items": page.items, "next_cursor": page.next_cursor}
