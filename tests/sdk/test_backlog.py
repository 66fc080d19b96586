"""The backlogs batches wait in: the spool directory and the bounded memory one."""

from __future__ import annotations

import asyncio
from pathlib import Path

import agenttrace_sdk as at
from agenttrace_sdk.backlog import DiskSpool, MemoryBacklog

from tests.sdk.conftest import RecordingSink


def test_the_spool_sends_oldest_first_and_survives_a_restart(tmp_path: Path) -> None:
    spool = DiskSpool(str(tmp_path), max_bytes=1024)
    assert spool.put(b"first", 1)
    assert spool.put(b"second", 2)
    reopened = DiskSpool(str(tmp_path), max_bytes=1024)  # as the next process would
    batch = reopened.oldest()
    assert batch is not None
    assert batch[1:] == (b"first", 1)
    reopened.remove(batch[0])
    batch = reopened.oldest()
    assert batch is not None
    assert batch[1:] == (b"second", 2)
    reopened.remove(batch[0])
    assert reopened.oldest() is None
    assert list(tmp_path.iterdir()) == []


def test_a_full_spool_refuses_a_batch(tmp_path: Path) -> None:
    spool = DiskSpool(str(tmp_path), max_bytes=10)
    assert spool.put(b"12345678", 1)
    assert not spool.put(b"123", 1)
    assert len(spool) == 1


def test_the_memory_backlog_is_bounded_by_spans() -> None:
    backlog = MemoryBacklog(max_spans=4)
    assert backlog.put(b"a", 3)
    assert not backlog.put(b"b", 2)
    assert backlog.put(b"c", 1)
    assert backlog.spans == 4
    first = backlog.oldest()
    assert first is not None
    backlog.remove(first[0])
    assert backlog.spans == 1


async def test_one_scope_entered_by_concurrent_tasks_keeps_each_task_straight(
    recorded: RecordingSink,
) -> None:
    shared = at.span("shared")

    async def task(delay: float) -> str:
        with shared as s:
            await asyncio.sleep(delay)
            assert at.current_span() is s
            return s.span_id

    ids = await asyncio.gather(task(0.02), task(0.0))
    assert len(set(ids)) == 2
    assert [s.status for s in recorded.ended] == ["OK", "OK"]
