"""A project worth exporting, and a column-by-column comparison of two databases."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.workload import DEFAULT_NOW_NS, Workload, span_rows
from exports.columns import table
from messaging.span_batch import SpanRecord
from resolvers.annotations import annotation_values, create_annotation
from resolvers.trace_edits import tag_trace
from storage.projects import create_project
from workers.span_rows import to_row
from workers.span_store import store_spans

SINCE = datetime(2025, 12, 27, tzinfo=UTC)
UNTIL = datetime(2026, 1, 1, tzinfo=UTC)
"""The workload's traces start over the week before 2026-01-01: this range holds most."""
_IN_RANGE_NS = DEFAULT_NOW_NS - 3_600 * 1_000_000_000
ODD_TRACE = "0123456789abcdef0123456789abcdef"
_BIG = "large payload ✓ " * 20_000  # ~340 KB of text in one JSON value


def _odd_records() -> list[dict[str, Any]]:
    """Spans of one trace with what breaks exporters: unicode everywhere, a large
    payload, awkward numbers, an error, and every nullable column NULL."""
    start = _IN_RANGE_NS + 123_456_789  # nanoseconds below the microsecond are dropped
    return [
        {
            "trace_id": ODD_TRACE,
            "span_id": "ffffffffffffff01",  # the top bit set: a negative BIGINT
            "name": "агент 🤖 エージェント عامل",
            "kind": "AGENT",
            "status": "ERROR",
            "status_message": "échec: «timeout» ✗",
            "start_time_unix_nano": start,
            "end_time_unix_nano": start + 2_500_001_000,
            "input": {"messages": [{"role": "user", "content": _BIG}], "ключ": None},
            "output": ["多语言", 0.1, 1e-300, 1.7976931348623157e308, 2**62, -0.0, True, {}],
            "attributes": {"nested": {"deep": [1, 2.5, {"x": "\u200b"}]}, "emoji🙂": "🙂"},
            "resource": {"service.name": "odd-service"},
            "events": [{"name": "exception", "attributes": {"exception.type": "ValueError"}}],
            "error": {"type": "ValueError", "message": "bad ∂ value"},
            "user_id": "usér-1",
            "session_id": "séssion-1",
            "environment": "prod",
            "tags": ["ünïcode", "zeta"],
            "metadata": {"version": "1.0", "ratio": 0.3333333333333333},
        },
        {
            # Every nullable column NULL: no parent, no end (a running span), no model...
            "trace_id": ODD_TRACE,
            "span_id": "0000000000000002",
            "name": "bare",
            "start_time_unix_nano": start + 1_000,
        },
        {
            "trace_id": ODD_TRACE,
            "span_id": "0000000000000003",
            "parent_span_id": "ffffffffffffff01",
            "name": "llm",
            "kind": "LLM",
            "status": "OK",
            "start_time_unix_nano": start + 2_000,
            "end_time_unix_nano": start + 9_000,
            "model": "gpt-4o",
            "input_tokens": 12,
            "output_tokens": 0,
            "cost": 0.000123456789,
            "input": "a plain string input",
            "output": None,
        },
    ]


async def seed_project(engine: AsyncEngine, name: str, traces: int = 24) -> uuid.UUID:
    """A project of ``traces`` generated traces of 10 spans (a fifth of the spans fail)
    plus the odd trace above, with tags set by hand and annotations."""
    project = (await create_project(engine, name)).id
    workload = Workload(seed=9, error_rate=0.2)
    generated = list(workload.traces(traces))
    rows = span_rows(project, generated) + [
        to_row(project, cast(SpanRecord, r)) for r in _odd_records()
    ]
    async with engine.begin() as conn:
        await store_spans(conn, rows)
    first, second = (uuid.UUID(t.trace_id) for t in generated[:2])
    await tag_trace(engine, (project, first), ["hand-made", "ラベル"], ["beta", "support"])
    await tag_trace(engine, (project, uuid.UUID(ODD_TRACE)), ["reviewed"], ["zeta"])
    await create_annotation(
        engine, (project, second, None), annotation_values("quality", score=0.75, label="good")
    )
    await create_annotation(
        engine,
        (project, uuid.UUID(ODD_TRACE), -255),  # span ffffffffffffff01
        annotation_values("note", comment="ça marche 👍"),
    )
    return project


def compared_columns(name: str) -> list[str]:
    """Every column of the table, from storage/tables.py, but the project and what an
    import cannot keep (a span's updated_at: the storage path sets it)."""
    skipped = {"project_id"} | ({"updated_at"} if name == "spans" else set())
    return [c.name for c in table(name).columns if c.name not in skipped]


async def rows_as_text(
    engine: AsyncEngine, name: str, project: uuid.UUID, trace_ids: list[uuid.UUID] | None = None
) -> dict[tuple[str, ...], dict[str, str | None]]:
    """Each row of the project's ``name`` table, keyed by its ids, column by column as
    PostgreSQL prints it (so a changed digit, key or microsecond shows)."""
    columns = compared_columns(name)
    keys = ["trace_id", "span_id"] if name == "spans" else ["trace_id"]
    where = "project_id = :p" + (
        " AND trace_id = ANY(CAST(:ids AS uuid[]))" if trace_ids is not None else ""
    )
    select = ", ".join(f'CAST("{c}" AS text) AS "{c}"' for c in columns)
    async with engine.connect() as conn:
        result = await conn.execute(
            text(f"SELECT {select} FROM {name} WHERE {where}"), {"p": project, "ids": trace_ids}
        )
        rows = result.mappings().all()
    return {tuple(str(r[k]) for k in keys): dict(r) for r in rows}


async def traces_in_range(engine: AsyncEngine, project: uuid.UUID) -> list[uuid.UUID]:
    async with engine.connect() as conn:
        found = await conn.execute(
            text(
                "SELECT trace_id FROM traces WHERE project_id = :p"
                " AND start_time >= :since AND start_time < :until"
            ),
            {"p": project, "since": SINCE, "until": UNTIL},
        )
        return [uuid.UUID(str(t)) for t in found.scalars()]


async def project_id(engine: AsyncEngine, name: str) -> uuid.UUID | None:
    async with engine.connect() as conn:
        found = await conn.scalar(text("SELECT id FROM projects WHERE name = :n"), {"n": name})
    return None if found is None else uuid.UUID(str(found))


def differences(
    source: dict[tuple[str, ...], dict[str, str | None]],
    target: dict[tuple[str, ...], dict[str, str | None]],
) -> list[str]:
    """What differs, row by row and column by column (empty when identical)."""
    problems = [f"missing row {k}" for k in source.keys() - target.keys()]
    problems += [f"extra row {k}" for k in target.keys() - source.keys()]
    for key in source.keys() & target.keys():
        for column, value in source[key].items():
            if target[key][column] != value:
                problems.append(
                    f"{key} {column}: {value!r:.120} became {target[key][column]!r:.120}"
                )
    return problems
