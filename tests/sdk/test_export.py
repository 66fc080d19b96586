"""The SDK against a real ``agenttrace serve``: trees, errors and live spans arrive, read
back through the REST API."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import agenttrace_sdk as at
import pytest

from tests.e2e.helpers import Api
from tests.processes import wait_until
from tests.sdk.conftest import Serve, spans_by_name


def test_nested_sync_async_generator_and_threaded_spans_arrive_as_one_tree(sdk: Api) -> None:
    @at.span(name="tool", kind="TOOL")
    def tool(i: int) -> int:
        return i

    @at.span(name="llm", kind="LLM")
    async def llm(prompt: str) -> str:
        at.current_span().set_model("gpt-4o").set_tokens(input=10, output=5).set_cost(0.5)
        await asyncio.sleep(0)
        return prompt[::-1]

    @at.span(name="stream")
    def stream() -> Iterator[str]:
        with at.span("chunk", kind="CHAIN"):
            yield "a"

    @at.span(name="astream")
    async def astream() -> AsyncIterator[str]:
        yield "b"

    async def collect() -> list[str]:
        return [x async for x in astream()]

    @at.trace(name="agent", kind="AGENT")
    def agent() -> str:
        at.update_current_trace(user_id="user-7", session_id="sess-7", tags=["sdk"])
        with at.ContextThreadPoolExecutor(2) as pool:
            pool.submit(tool, 1).result()
        reply = asyncio.run(llm("olleh"))
        items = list(stream()) + asyncio.run(collect())
        return reply + "".join(items)

    with at.span("outer", kind="CHAIN") as outer:
        assert agent() == "helloab"
    trace_id = outer.trace_id
    assert at.flush(30)

    trace = sdk.wait_for_trace(trace_id, 7)
    spans = spans_by_name(trace)
    agent_id = spans["agent"]["span_id"]
    assert spans["outer"]["parent_span_id"] is None
    assert spans["agent"]["parent_span_id"] == outer.span_id
    for child in ("tool", "llm", "stream", "astream"):
        assert spans[child]["parent_span_id"] == agent_id, child
    assert spans["chunk"]["parent_span_id"] == spans["stream"]["span_id"]
    assert spans["llm"]["model"] == "gpt-4o"
    assert (spans["llm"]["input"], spans["llm"]["output"]) == ({"prompt": "olleh"}, "hello")
    assert all(s["end_time"] is not None for s in trace["spans"])
    assert (trace["user_id"], trace["session_id"], trace["tags"]) == ("user-7", "sess-7", ["sdk"])
    assert (trace["total_tokens"], trace["span_count"], trace["status"]) == (15, 7, "OK")


def test_an_exception_arrives_with_its_stack_and_is_reraised(sdk: Api) -> None:
    error = LookupError("no such document")

    @at.span(name="retrieve", kind="RETRIEVER")
    def retrieve() -> None:
        raise error

    with pytest.raises(LookupError) as raised, at.span("agent", kind="AGENT") as root:
        retrieve()
    assert raised.value is error
    assert at.flush(30)
    trace = sdk.wait_for_trace(root.trace_id, 2)
    span = spans_by_name(trace)["retrieve"]
    assert span["status"] == "ERROR"
    assert span["error"]["type"] == "LookupError"
    assert span["error"]["message"] == "no such document"
    assert "raise error" in span["error"]["stack"]
    assert "LookupError: no such document" in span["error"]["stack"]
    assert trace["status"] == "ERROR"


def test_a_long_span_is_readable_while_it_runs_and_complete_after(sdk: Api) -> None:
    seen_running = False
    with at.span("slow", kind="AGENT") as slow:
        started = time.monotonic()
        while time.monotonic() - started < 30:
            trace = sdk.trace(slow.trace_id)
            if trace is not None and trace["spans"]:
                assert trace["spans"][0]["end_time"] is None
                seen_running = True
                break
            time.sleep(0.1)
        time.sleep(max(0.0, 3 - (time.monotonic() - started)))
    assert seen_running
    assert at.flush(30)

    def complete() -> bool:
        trace = sdk.trace(slow.trace_id)
        return trace is not None and trace["spans"][0]["end_time"] is not None

    wait_until(complete, 60, lambda: f"never completed: {sdk.trace(slow.trace_id)}")
    trace = sdk.trace(slow.trace_id)
    assert trace is not None
    assert len(trace["spans"]) == 1
    assert trace["spans"][0]["duration_ms"] >= 3000
    assert at.stats().live_exported == 1


def test_a_bad_api_key_drops_the_batch_with_a_counted_reason(serve: Serve) -> None:
    at.init(api_key="at_not-a-real-key-xxxxxxxxxxxxxxxx", endpoint=serve.base_url)
    try:
        with at.span("refused"):
            pass
        at.flush(10)
        wait_until(lambda: at.stats().dropped_http_error == 1, 30, lambda: f"{at.stats()}")
        stats = at.stats()
        assert stats.exported == 0
        assert stats.retries == 0
        assert stats.last_error is not None
        assert "HTTP 401" in stats.last_error
    finally:
        at.shutdown(5)


def test_a_forked_child_exports_through_its_own_thread(sdk: Api) -> None:
    with at.span("parent") as parent:
        pass
    pid = os.fork()
    if pid == 0:  # the child: its exporter thread was re-created at fork
        code = 1
        try:
            with at.use_span(parent), at.span("in-child"):
                pass
            code = 0 if at.flush(30) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert at.flush(30)
    spans = spans_by_name(sdk.wait_for_trace(parent.trace_id, 2))
    assert spans["in-child"]["parent_span_id"] == parent.span_id


def test_spans_are_flushed_at_interpreter_exit(serve: Serve, tmp_path: Path) -> None:
    assert serve.api is not None
    script = tmp_path / "agent.py"
    script.write_text(
        "import agenttrace_sdk as at\n"
        f"at.init(api_key={serve.api.api_key!r}, endpoint={serve.base_url!r},"
        " schedule_delay_s=60)\n"
        "with at.span('exit-root') as root:\n"
        "    with at.span('exit-child'):\n"
        "        pass\n"
        "print(root.trace_id)\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=True
    )
    trace_id = done.stdout.strip()
    spans = spans_by_name(serve.api.wait_for_trace(trace_id, 2))
    assert spans["exit-child"]["parent_span_id"] == spans["exit-root"]["span_id"]
