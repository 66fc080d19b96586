"""Over-long names, models, ids and tags: stored cut, with the whole value kept, and
never a batch that fails every retry."""

from __future__ import annotations

import dataclasses
import random
import time
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from devservices import DevServices
from storage.database import create_engine
from storage.otel_ids import span_id_to_hex, trace_id_to_hex
from tests.databases import fresh_database
from workers.span_rows import INDEXED_TEXT_MAX_BYTES, TRUNCATED_ATTRIBUTE, to_row
from workers.span_store import store_spans
from workers.storage_worker import _is_poison

# 4 KB of UTF-8 that does not compress: over any B-tree entry's limit.
_RANDOM = random.Random(7)
EMOJI_NAME = "".join(chr(0x1F300 + _RANDOM.randrange(700)) for _ in range(1024))


def _record(**fields: object) -> dict[str, object]:
    return {
        "trace_id": trace_id_to_hex(uuid.uuid4()),
        "span_id": span_id_to_hex(uuid.uuid4().int >> 65),
        "name": "span",
        "start_time_unix_nano": time.time_ns(),
    } | fields


def test_long_indexed_text_is_cut_and_the_whole_value_kept() -> None:
    row = to_row(
        uuid.uuid4(),
        _record(name=EMOJI_NAME, model="m" * 600, tags=["ok", "t" * 700], user_id="u"),  # type: ignore[arg-type]
    )
    assert len(row.name.encode()) <= INDEXED_TEXT_MAX_BYTES
    assert row.name.endswith("\u2026")
    assert row.model is not None
    assert len(row.model.encode()) <= INDEXED_TEXT_MAX_BYTES
    assert row.tags[0] == "ok"
    assert len(row.tags[1].encode()) <= INDEXED_TEXT_MAX_BYTES
    assert row.user_id == "u"
    assert row.attributes[TRUNCATED_ATTRIBUTE] == {
        "name": EMOJI_NAME,
        "model": "m" * 600,
        "tags": ["ok", "t" * 700],
    }


def test_short_text_is_left_alone() -> None:
    row = to_row(uuid.uuid4(), _record(name="agent", tags=["a"]))  # type: ignore[arg-type]
    assert (row.name, row.tags, row.attributes) == ("agent", ["a"], {})


async def test_a_span_with_a_huge_name_is_stored(services: DevServices) -> None:
    engine = create_engine(await fresh_database(services, "longtext"), pool_size=1)
    try:
        row = to_row(uuid.uuid4(), _record(name=EMOJI_NAME))  # type: ignore[arg-type]
        async with engine.begin() as conn:
            await store_spans(conn, [row])
            stored = (await conn.execute(text("SELECT name, attributes FROM spans"))).one()
        assert stored.name == row.name
        assert stored.attributes[TRUNCATED_ATTRIBUTE]["name"] == EMOJI_NAME

        # Were a value ever to reach the index uncut, the database's refusal is poison
        # (dead-lettered), not a transient error retried forever.
        uncut = dataclasses.replace(row, span_id=row.span_id + 1, name=EMOJI_NAME)
        with pytest.raises(DBAPIError) as refused:
            async with engine.begin() as conn:
                await store_spans(conn, [uncut])
        assert _is_poison(refused.value)
    finally:
        await engine.dispose()
