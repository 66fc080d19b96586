"""What people change on stored traces: tags set by hand, and deletion.

Tags set by hand must survive the storage worker, which recomputes ``traces.tags`` from
the spans whenever more of a trace arrives. So they are kept apart, in ``manual_tags``
(added) and ``removed_tags`` (taken away, even when a span carries them), and the
recompute folds them in: ``tags = (tags of the spans + manual_tags) - removed_tags``.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from agenttrace.errors import InvalidArgument
from resolvers.records import TRACE_COLUMNS, TraceData, TraceKey
from storage.rollups import forget_traces

MAX_TAG_CHARS = 200
MAX_TAGS_PER_CHANGE = 100
MAX_TRACES_PER_DELETE = 1_000

# ``x || :add`` minus ``:remove``, distinct and sorted as the worker sorts span tags.
_TAG_TRACE = text(
    f"""
    UPDATE traces SET
        manual_tags = ARRAY(SELECT DISTINCT x FROM unnest(manual_tags || CAST(:add AS text[]))
            AS x WHERE x <> ALL(CAST(:remove AS text[])) ORDER BY x),
        removed_tags = ARRAY(SELECT DISTINCT x FROM unnest(removed_tags || CAST(:remove AS text[]))
            AS x WHERE x <> ALL(CAST(:add AS text[])) ORDER BY x),
        tags = ARRAY(SELECT DISTINCT x FROM unnest(tags || CAST(:add AS text[]))
            AS x WHERE x <> ALL(CAST(:remove AS text[])) ORDER BY x),
        updated_at = now()
    WHERE project_id = :p AND trace_id = :t
    RETURNING {TRACE_COLUMNS}
    """
)

_TARGETS = (
    "(project_id, trace_id) IN (SELECT * FROM unnest(CAST(:p AS uuid[]), CAST(:t AS uuid[])))"
)


def _checked_tags(field: str, tags: Sequence[str]) -> list[str]:
    if len(tags) > MAX_TAGS_PER_CHANGE:
        raise InvalidArgument(f"{field} takes at most {MAX_TAGS_PER_CHANGE} tags")
    checked = []
    for tag in tags:
        tag = tag.strip()
        if not tag:
            raise InvalidArgument(f"{field} has an empty tag")
        if len(tag) > MAX_TAG_CHARS:
            raise InvalidArgument(f"{field} has a tag longer than {MAX_TAG_CHARS} characters")
        if "\x00" in tag:
            raise InvalidArgument(f"{field} has a tag with the NUL character")
        checked.append(tag)
    return checked


async def tag_trace(
    engine: AsyncEngine, key: TraceKey, add: Sequence[str], remove: Sequence[str]
) -> TraceData | None:
    """Adds and removes tags by hand; the trace as it is now, or None if there is no such
    trace. Raises InvalidArgument for an empty change, a bad tag, or a tag in both lists."""
    added, removed = _checked_tags("add", add), _checked_tags("remove", remove)
    if not added and not removed:
        raise InvalidArgument("give at least one tag to add or remove")
    if both := sorted(set(added) & set(removed)):
        raise InvalidArgument(f"tags both added and removed: {', '.join(both)}")
    async with engine.begin() as conn:
        row = (
            (
                await conn.execute(
                    _TAG_TRACE, {"p": key[0], "t": key[1], "add": added, "remove": removed}
                )
            )
            .mappings()
            .first()
        )
    return None if row is None else TraceData.from_row(row)


async def delete_traces(engine: AsyncEngine, keys: Sequence[TraceKey]) -> int:
    """Deletes the traces, their spans and (by foreign key cascade) their annotations in
    one transaction, marking their minutes for the analytics rollups to recompute; returns how many traces there were. Raises InvalidArgument for too
    many keys."""
    if len(keys) > MAX_TRACES_PER_DELETE:
        raise InvalidArgument(f"at most {MAX_TRACES_PER_DELETE} traces per call")
    params = {"p": [k[0] for k in keys], "t": [k[1] for k in keys]}
    async with engine.begin() as conn:
        # The analytics rollups must lose these traces too: their minutes are marked for
        # a recompute in this transaction, before the spans that say which minutes go.
        await forget_traces(conn, list(keys))
        # Rows are locked as the storage worker locks them (spans, then traces, each in
        # key order), so a delete racing an upsert of the same trace cannot deadlock.
        await conn.execute(
            text(
                "DELETE FROM spans WHERE (project_id, trace_id, span_id) IN"
                f" (SELECT project_id, trace_id, span_id FROM spans WHERE {_TARGETS}"
                " ORDER BY project_id, trace_id, span_id FOR UPDATE)"
            ),
            params,
        )
        deleted = await conn.execute(
            text(
                "DELETE FROM traces WHERE (project_id, trace_id) IN"
                f" (SELECT project_id, trace_id FROM traces WHERE {_TARGETS}"
                " ORDER BY project_id, trace_id FOR UPDATE) RETURNING trace_id"
            ),
            params,
        )
        return len(deleted.all())
