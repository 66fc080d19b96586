"""Reads traces and their spans. Every query is scoped by project id."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.otel_ids import span_id_to_hex, trace_id_to_hex

MAX_PAGE_SIZE = 200

_TRACE_COLUMNS = """trace_id, name, status, start_time, end_time, duration_ms, root_span_id,
    span_count, error_count, input_tokens, output_tokens, total_tokens, cost, user_id,
    session_id, environment, tags, metadata, created_at, updated_at"""

_SPAN_COLUMNS = """span_id, parent_span_id, name, kind, status, status_message, start_time,
    end_time, model, input_tokens, output_tokens, total_tokens, cost, input, output,
    attributes, resource, events, error, user_id, session_id, environment, tags, metadata"""


class InvalidCursor(ValueError):
    pass


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _duration_ms(start: datetime, end: datetime | None) -> float | None:
    return (end - start).total_seconds() * 1000 if end is not None else None


def trace_json(row: RowMapping) -> dict[str, Any]:
    return {
        "trace_id": trace_id_to_hex(row["trace_id"]),
        "name": row["name"],
        "status": row["status"],
        "start_time": _iso(row["start_time"]),
        "end_time": _iso(row["end_time"]),
        "duration_ms": row["duration_ms"],
        "root_span_id": span_id_to_hex(row["root_span_id"])
        if row["root_span_id"] is not None
        else None,
        "span_count": row["span_count"],
        "error_count": row["error_count"],
        "input_tokens": row["input_tokens"],
        "output_tokens": row["output_tokens"],
        "total_tokens": row["total_tokens"],
        "cost": row["cost"],
        "user_id": row["user_id"],
        "session_id": row["session_id"],
        "environment": row["environment"],
        "tags": row["tags"],
        "metadata": row["metadata"],
    }


def span_json(row: RowMapping) -> dict[str, Any]:
    parent = row["parent_span_id"]
    return {
        "span_id": span_id_to_hex(row["span_id"]),
        "parent_span_id": span_id_to_hex(parent) if parent is not None else None,
        "name": row["name"],
        "kind": row["kind"],
        "status": row["status"],
        "status_message": row["status_message"],
        "start_time": _iso(row["start_time"]),
        "end_time": _iso(row["end_time"]),
        "duration_ms": _duration_ms(row["start_time"], row["end_time"]),
        "model": row["model"],
        "input_tokens": row["input_tokens"],
        "output_tokens": row["output_tokens"],
        "total_tokens": row["total_tokens"],
        "cost": row["cost"],
        "input": row["input"],
        "output": row["output"],
        "attributes": row["attributes"],
        "resource": row["resource"],
        "events": row["events"],
        "error": row["error"],
        "user_id": row["user_id"],
        "session_id": row["session_id"],
        "environment": row["environment"],
        "tags": row["tags"],
        "metadata": row["metadata"],
    }


async def trace_with_spans(
    engine: AsyncEngine, project_id: uuid.UUID, trace_id: uuid.UUID
) -> dict[str, Any] | None:
    """The trace and all its spans (by start time), or None if this project has no such trace."""
    async with engine.connect() as conn:
        trace = (
            (
                await conn.execute(
                    text(
                        f"SELECT {_TRACE_COLUMNS} FROM traces WHERE project_id = :p AND trace_id = :t"
                    ),
                    {"p": project_id, "t": trace_id},
                )
            )
            .mappings()
            .first()
        )
        if trace is None:
            return None
        spans = (
            (
                await conn.execute(
                    text(
                        f"SELECT {_SPAN_COLUMNS} FROM spans WHERE project_id = :p AND trace_id = :t"
                        " ORDER BY start_time, span_id"
                    ),
                    {"p": project_id, "t": trace_id},
                )
            )
            .mappings()
            .all()
        )
    return trace_json(trace) | {"spans": [span_json(s) for s in spans]}


@dataclass(frozen=True, slots=True)
class TracePage:
    items: list[dict[str, Any]]
    next_cursor: str | None


def _encode_cursor(start_time: datetime, trace_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{start_time.isoformat()}|{trace_id.hex}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        start, _, trace = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(start), uuid.UUID(hex=trace)
    except (ValueError, UnicodeDecodeError):
        raise InvalidCursor("cursor is not one this API returned") from None


async def list_traces(
    engine: AsyncEngine, project_id: uuid.UUID, *, limit: int, cursor: str | None
) -> TracePage:
    """A project's traces, newest first, by keyset (start time, trace id)."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    params: dict[str, Any] = {"p": project_id, "n": limit + 1}
    after = ""
    if cursor is not None:
        params["cs"], params["ct"] = _decode_cursor(cursor)
        after = "AND (start_time, trace_id) < (:cs, :ct)"
    async with engine.connect() as conn:
        rows = (
            (
                await conn.execute(
                    text(
                        f"SELECT {_TRACE_COLUMNS} FROM traces WHERE project_id = :p {after}"
                        " ORDER BY start_time DESC, trace_id DESC LIMIT :n"
                    ),
                    params,
                )
            )
            .mappings()
            .all()
        )
    page = rows[:limit]
    next_cursor = (
        _encode_cursor(page[-1]["start_time"], page[-1]["trace_id"]) if len(rows) > limit else None
    )
    return TracePage([trace_json(r) for r in page], next_cursor)
