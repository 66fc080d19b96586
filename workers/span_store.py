"""Stores spans idempotently and keeps each trace's aggregates right.

One round trip upserts a whole batch of spans (``unnest`` of column arrays), a second
recomputes the touched traces from their spans. Recomputing rather than adding deltas is
what makes duplicates, replays and out-of-order updates harmless: the trace row is always
a function of the spans stored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from workers.span_rows import SpanRow

# The merge rule (mirrored by span_rows.merge): what is stored stays; what an earlier
# message left empty is filled in; a later end time wins; a duplicate changes nothing.
UPSERT_SPANS = text(
    """
    INSERT INTO spans (
        project_id, trace_id, span_id, parent_span_id, name, kind, status, status_message,
        start_time, end_time, model, input_tokens, output_tokens, total_tokens, cost,
        input, output, attributes, resource, events, error, user_id, session_id,
        environment, tags, metadata, cost_source, tokens_estimated)
    SELECT u.project_id, u.trace_id, u.span_id, u.parent_span_id, u.name, u.kind, u.status,
           u.status_message, u.start_time, u.end_time, u.model, u.input_tokens,
           u.output_tokens, u.total_tokens, u.cost, u.input, u.output, u.attributes,
           u.resource, u.events, u.error, u.user_id, u.session_id, u.environment,
           ARRAY(SELECT jsonb_array_elements_text(u.tags)), u.metadata, u.cost_source,
           u.tokens_estimated
    FROM unnest(
        CAST(:project_id AS uuid[]), CAST(:trace_id AS uuid[]), CAST(:span_id AS bigint[]),
        CAST(:parent_span_id AS bigint[]), CAST(:name AS text[]), CAST(:kind AS text[]),
        CAST(:status AS text[]), CAST(:status_message AS text[]),
        CAST(:start_time AS timestamptz[]), CAST(:end_time AS timestamptz[]),
        CAST(:model AS text[]), CAST(:input_tokens AS bigint[]),
        CAST(:output_tokens AS bigint[]), CAST(:total_tokens AS bigint[]),
        CAST(:cost AS float8[]), CAST(:input AS jsonb[]), CAST(:output AS jsonb[]),
        CAST(:attributes AS jsonb[]), CAST(:resource AS jsonb[]), CAST(:events AS jsonb[]),
        CAST(:error AS jsonb[]), CAST(:user_id AS text[]), CAST(:session_id AS text[]),
        CAST(:environment AS text[]), CAST(:tags AS jsonb[]), CAST(:metadata AS jsonb[]),
        CAST(:cost_source AS text[]), CAST(:tokens_estimated AS boolean[])
    ) AS u(project_id, trace_id, span_id, parent_span_id, name, kind, status, status_message,
           start_time, end_time, model, input_tokens, output_tokens, total_tokens, cost,
           input, output, attributes, resource, events, error, user_id, session_id,
           environment, tags, metadata, cost_source, tokens_estimated)
    ON CONFLICT (project_id, trace_id, span_id) DO UPDATE SET
        parent_span_id = COALESCE(spans.parent_span_id, EXCLUDED.parent_span_id),
        kind = CASE WHEN spans.kind = 'SPAN' THEN EXCLUDED.kind ELSE spans.kind END,
        status = CASE WHEN spans.status = 'UNSET' THEN EXCLUDED.status ELSE spans.status END,
        status_message = COALESCE(spans.status_message, EXCLUDED.status_message),
        start_time = LEAST(spans.start_time, EXCLUDED.start_time),
        end_time = GREATEST(spans.end_time, EXCLUDED.end_time),
        model = COALESCE(spans.model, EXCLUDED.model),
        input_tokens = COALESCE(spans.input_tokens, EXCLUDED.input_tokens),
        output_tokens = COALESCE(spans.output_tokens, EXCLUDED.output_tokens),
        total_tokens = COALESCE(spans.total_tokens, EXCLUDED.total_tokens),
        -- A cost the client sent replaces one the worker computed, whichever came first.
        cost = CASE WHEN EXCLUDED.cost_source = 'CLIENT'
                         AND spans.cost_source IS DISTINCT FROM 'CLIENT'
                    THEN EXCLUDED.cost ELSE COALESCE(spans.cost, EXCLUDED.cost) END,
        cost_source = CASE WHEN EXCLUDED.cost_source = 'CLIENT' OR spans.cost IS NULL
                           THEN COALESCE(EXCLUDED.cost_source, spans.cost_source)
                           ELSE spans.cost_source END,
        tokens_estimated = COALESCE(spans.tokens_estimated, EXCLUDED.tokens_estimated),
        input = COALESCE(spans.input, EXCLUDED.input),
        output = COALESCE(spans.output, EXCLUDED.output),
        attributes = EXCLUDED.attributes || spans.attributes,
        resource = EXCLUDED.resource || spans.resource,
        events = CASE WHEN spans.events = '[]'::jsonb THEN EXCLUDED.events ELSE spans.events END,
        error = COALESCE(spans.error, EXCLUDED.error),
        user_id = COALESCE(spans.user_id, EXCLUDED.user_id),
        session_id = COALESCE(spans.session_id, EXCLUDED.session_id),
        environment = COALESCE(spans.environment, EXCLUDED.environment),
        tags = CASE WHEN cardinality(spans.tags) = 0 THEN EXCLUDED.tags ELSE spans.tags END,
        metadata = EXCLUDED.metadata || spans.metadata,
        updated_at = now()
    """
)

# Tokens and cost are summed over model calls only (LLM and EMBEDDING spans), so a
# framework that also reports totals on the parent chain is not counted twice.
RECOMPUTE_TRACES = text(
    """
    WITH touched AS (
        SELECT DISTINCT * FROM unnest(CAST(:project_id AS uuid[]), CAST(:trace_id AS uuid[]))
            AS t(project_id, trace_id)
    ), agg AS (
        SELECT s.project_id, s.trace_id,
            COALESCE((array_agg(s.name ORDER BY s.start_time)
                        FILTER (WHERE s.parent_span_id IS NULL))[1],
                     (array_agg(s.name ORDER BY s.start_time))[1]) AS name,
            CASE WHEN bool_or(s.status = 'ERROR') THEN 'ERROR'
                 WHEN bool_or(s.end_time IS NULL) THEN 'RUNNING'
                 ELSE 'OK' END AS status,
            min(s.start_time) AS start_time,
            CASE WHEN bool_or(s.end_time IS NULL) THEN NULL ELSE max(s.end_time) END
                AS end_time,
            (array_agg(s.span_id ORDER BY s.start_time)
                FILTER (WHERE s.parent_span_id IS NULL))[1] AS root_span_id,
            count(*) AS span_count,
            count(*) FILTER (WHERE s.status = 'ERROR') AS error_count,
            COALESCE(sum(s.input_tokens) FILTER (WHERE s.kind IN ('LLM', 'EMBEDDING')), 0)
                AS input_tokens,
            COALESCE(sum(s.output_tokens) FILTER (WHERE s.kind IN ('LLM', 'EMBEDDING')), 0)
                AS output_tokens,
            COALESCE(sum(COALESCE(s.total_tokens,
                                  COALESCE(s.input_tokens, 0) + COALESCE(s.output_tokens, 0)))
                     FILTER (WHERE s.kind IN ('LLM', 'EMBEDDING')), 0) AS total_tokens,
            COALESCE(sum(s.cost) FILTER (WHERE s.kind IN ('LLM', 'EMBEDDING')), 0) AS cost,
            (array_agg(s.user_id ORDER BY s.parent_span_id IS NOT NULL, s.start_time)
                FILTER (WHERE s.user_id IS NOT NULL))[1] AS user_id,
            (array_agg(s.session_id ORDER BY s.parent_span_id IS NOT NULL, s.start_time)
                FILTER (WHERE s.session_id IS NOT NULL))[1] AS session_id,
            (array_agg(s.environment ORDER BY s.parent_span_id IS NOT NULL, s.start_time)
                FILTER (WHERE s.environment IS NOT NULL))[1] AS environment,
            COALESCE((array_agg(s.metadata ORDER BY s.parent_span_id IS NOT NULL, s.start_time)
                FILTER (WHERE s.metadata <> '{}'::jsonb))[1], '{}'::jsonb) AS metadata
        FROM spans s JOIN touched USING (project_id, trace_id)
        GROUP BY s.project_id, s.trace_id
    ), tag AS (
        SELECT s.project_id, s.trace_id, array_agg(DISTINCT t.tag ORDER BY t.tag) AS tags
        FROM spans s JOIN touched USING (project_id, trace_id)
        CROSS JOIN LATERAL unnest(s.tags) AS t(tag)
        GROUP BY s.project_id, s.trace_id
    )
    INSERT INTO traces (
        project_id, trace_id, name, status, start_time, end_time, duration_ms, root_span_id,
        span_count, error_count, input_tokens, output_tokens, total_tokens, cost, user_id,
        session_id, environment, tags, metadata)
    SELECT agg.project_id, agg.trace_id, agg.name, agg.status, agg.start_time, agg.end_time,
        extract(epoch FROM agg.end_time - agg.start_time) * 1000, agg.root_span_id,
        agg.span_count, agg.error_count, agg.input_tokens, agg.output_tokens,
        agg.total_tokens, agg.cost, agg.user_id, agg.session_id, agg.environment,
        COALESCE(tag.tags, '{}'), agg.metadata
    FROM agg LEFT JOIN tag USING (project_id, trace_id)
    ON CONFLICT (project_id, trace_id) DO UPDATE SET
        name = EXCLUDED.name, status = EXCLUDED.status, start_time = EXCLUDED.start_time,
        end_time = EXCLUDED.end_time, duration_ms = EXCLUDED.duration_ms,
        root_span_id = EXCLUDED.root_span_id, span_count = EXCLUDED.span_count,
        error_count = EXCLUDED.error_count, input_tokens = EXCLUDED.input_tokens,
        output_tokens = EXCLUDED.output_tokens, total_tokens = EXCLUDED.total_tokens,
        cost = EXCLUDED.cost, user_id = EXCLUDED.user_id, session_id = EXCLUDED.session_id,
        environment = EXCLUDED.environment,
        tags = ARRAY(SELECT DISTINCT x FROM unnest(EXCLUDED.tags || traces.manual_tags) AS x
                     WHERE x <> ALL(traces.removed_tags) ORDER BY x),
        metadata = EXCLUDED.metadata, updated_at = now()
    RETURNING project_id, trace_id, name, status, start_time, end_time, duration_ms,
        root_span_id, span_count, error_count, input_tokens, output_tokens, total_tokens, cost,
        user_id, session_id, environment, tags, metadata, created_at, updated_at
    """
)


@dataclass(frozen=True, slots=True)
class StoredTrace:
    """A trace's whole row right after a batch touched it: enough for a live subscriber
    to show the trace without reading the database."""

    project_id: uuid.UUID
    trace_id: uuid.UUID
    name: str
    status: str
    start_time: datetime
    end_time: datetime | None
    duration_ms: float | None
    root_span_id: int | None
    span_count: int
    error_count: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    cost: float
    user_id: str | None
    session_id: str | None
    environment: str | None
    tags: list[str]
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


def _json(value: Any) -> str | None:
    if value is None:
        return None
    # PostgreSQL's jsonb refuses the NUL character; keep the data, mark the character.
    return orjson.dumps(value).decode().replace("\\u0000", "\\ufffd")


def _text(value: str | None) -> str | None:
    return None if value is None else value.replace("\x00", "\ufffd")


def _columns(rows: list[SpanRow]) -> dict[str, list[Any]]:
    return {
        "project_id": [r.project_id for r in rows],
        "trace_id": [r.trace_id for r in rows],
        "span_id": [r.span_id for r in rows],
        "parent_span_id": [r.parent_span_id for r in rows],
        "name": [_text(r.name) for r in rows],
        "kind": [r.kind for r in rows],
        "status": [r.status for r in rows],
        "status_message": [_text(r.status_message) for r in rows],
        "start_time": [r.start_time for r in rows],
        "end_time": [r.end_time for r in rows],
        "model": [_text(r.model) for r in rows],
        "input_tokens": [r.input_tokens for r in rows],
        "output_tokens": [r.output_tokens for r in rows],
        "total_tokens": [r.total_tokens for r in rows],
        "cost": [r.cost for r in rows],
        "input": [_json(r.input) for r in rows],
        "output": [_json(r.output) for r in rows],
        "attributes": [_json(r.attributes) for r in rows],
        "resource": [_json(r.resource) for r in rows],
        "events": [_json(r.events) for r in rows],
        "error": [_json(r.error) for r in rows],
        "user_id": [_text(r.user_id) for r in rows],
        "session_id": [_text(r.session_id) for r in rows],
        "environment": [_text(r.environment) for r in rows],
        "tags": [_json([_text(t) for t in r.tags]) for r in rows],
        "metadata": [_json(r.metadata) for r in rows],
        "cost_source": [r.cost_source for r in rows],
        "tokens_estimated": [r.tokens_estimated for r in rows],
    }


def copy_columns(rows: list[SpanRow]) -> dict[str, list[Any]]:
    """``rows`` as the upsert's column values, ready for a binary COPY of those columns
    (asyncpg ``copy_records_to_table(table, records=zip(*values), columns=names)``): the
    same values, but ``tags`` as a text array rather than JSON."""
    columns = _columns(rows)
    columns["tags"] = [[_text(t) for t in r.tags] for r in rows]
    return columns


async def store_spans(conn: AsyncConnection, rows: list[SpanRow]) -> list[StoredTrace]:
    """Upserts ``rows`` (one per span: see span_rows.merge_duplicates) and recomputes
    their traces, inside the caller's transaction. Returns the touched traces."""
    if not rows:
        return []
    # A stable order keeps concurrent workers from deadlocking on each other's rows.
    # (UUIDs order as their ints; comparing ints skips UUID's Python-level __lt__.)
    rows = sorted(rows, key=lambda r: (r.project_id.int, r.trace_id.int, r.span_id))
    await conn.execute(UPSERT_SPANS, _columns(rows))
    touched = sorted({(r.project_id, r.trace_id) for r in rows})
    result = await conn.execute(
        RECOMPUTE_TRACES,
        {"project_id": [p for p, _ in touched], "trace_id": [t for _, t in touched]},
    )
    return [StoredTrace(**row) for row in result.mappings()]
