"""Spans nest the way the code runs: sync, async, generators, threads (no server)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator

import agenttrace_sdk as at
import pytest

from tests.sdk.conftest import RecordingSink


def test_nested_sync_spans_form_a_tree_in_one_trace(recorded: RecordingSink) -> None:
    @at.trace(kind="AGENT")
    def agent(question: str) -> str:
        with at.span("search", kind="TOOL") as tool:
            tool.set_output(["doc"])
        return llm(question)

    @at.span(kind="LLM", name="chat")
    def llm(prompt: str) -> str:
        at.current_span().set_model("gpt-4o").set_tokens(input=3, output=2).set_cost(0.01)
        return prompt.upper()

    assert agent("hi") == "HI"
    spans = recorded.by_name()
    root = spans["test_nested_sync_spans_form_a_tree_in_one_trace.<locals>.agent"]
    assert root.parent_span_id is None
    assert (root.kind, root.input, root.output, root.status) == (
        "AGENT",
        {"question": "hi"},
        "HI",
        "OK",
    )
    assert spans["search"].parent_span_id == root.span_id
    assert spans["chat"].parent_span_id == root.span_id
    assert (spans["chat"].model, spans["chat"].input_tokens, spans["chat"].cost) == (
        "gpt-4o",
        3,
        0.01,
    )
    assert {s.trace_id for s in recorded.ended} == {root.trace_id}
    assert at.current_span().recording is False


async def test_async_children_in_gathered_tasks_keep_their_parent(
    recorded: RecordingSink,
) -> None:
    @at.span(name="step", kind="TOOL")
    async def step(i: int) -> int:
        await asyncio.sleep(0.01 * (3 - i))
        with at.span(f"inner-{i}"):
            await asyncio.sleep(0)
        return i

    @at.trace(name="root", kind="AGENT")
    async def root() -> list[int]:
        return list(await asyncio.gather(*(step(i) for i in range(3))))

    assert await root() == [0, 1, 2]
    spans = {s.name: s for s in recorded.ended}
    steps = [s for s in recorded.ended if s.name == "step"]
    assert len(steps) == 3
    assert all(s.parent_span_id == spans["root"].span_id for s in steps)
    inner_parents = {spans[f"inner-{i}"].parent_span_id for i in range(3)}
    assert inner_parents == {s.span_id for s in steps}


def test_generator_span_covers_iteration_and_is_current_only_inside(
    recorded: RecordingSink,
) -> None:
    @at.span(name="stream", kind="LLM")
    def stream(n: int) -> Iterator[int]:
        for i in range(n):
            with at.span(f"chunk-{i}"):
                yield i

    with at.span("root") as root:
        seen = []
        for item in stream(3):
            seen.append(item)
            assert at.current_span() is root  # the generator's span does not leak out
    assert seen == [0, 1, 2]
    spans = recorded.by_name()
    assert spans["stream"].parent_span_id == root.span_id
    assert spans["stream"].output == [0, 1, 2]
    assert all(spans[f"chunk-{i}"].parent_span_id == spans["stream"].span_id for i in range(3))
    assert spans["stream"].end_ns is not None
    assert spans["stream"].end_ns <= spans["root"].end_ns  # type: ignore[operator]


def test_generator_closed_early_ends_its_span(recorded: RecordingSink) -> None:
    @at.span(name="numbers")
    def numbers() -> Iterator[int]:
        yield from range(100)

    gen = numbers()
    assert next(gen) == 0
    assert next(gen) == 1
    gen.close()
    span = recorded.by_name()["numbers"]
    assert span.status == "OK"
    assert span.output == [0, 1]
    assert span.attributes["generator.closed_early"] is True


def test_generator_send_and_return_value_pass_through(recorded: RecordingSink) -> None:
    @at.span(name="echo")
    def echo() -> Iterator[str]:
        received = yield "ready"
        yield f"got {received}"
        return "bye"  # type: ignore[misc]

    gen = echo()
    assert next(gen) == "ready"
    assert gen.send("x") == "got x"
    with pytest.raises(StopIteration) as stop:
        next(gen)
    assert stop.value.value == "bye"
    assert recorded.by_name()["echo"].output == {"items": ["ready", "got x"], "return": "bye"}


async def test_async_generator_span_ends_when_exhausted(recorded: RecordingSink) -> None:
    @at.span(name="tokens", kind="LLM")
    async def tokens() -> AsyncIterator[str]:
        for word in ("a", "b"):
            with at.span(f"token-{word}"):
                await asyncio.sleep(0)
            yield word

    with at.span("root") as root:
        words = [w async for w in tokens()]
        assert at.current_span() is root
    assert words == ["a", "b"]
    spans = recorded.by_name()
    assert spans["tokens"].parent_span_id == root.span_id
    assert spans["tokens"].output == ["a", "b"]
    assert spans["token-a"].parent_span_id == spans["tokens"].span_id


async def test_async_generator_error_is_recorded(recorded: RecordingSink) -> None:
    @at.span(name="failing")
    async def failing() -> AsyncIterator[int]:
        yield 1
        raise KeyError("gone")

    with pytest.raises(KeyError):
        async for _ in failing():
            pass
    span = recorded.by_name()["failing"]
    assert span.status == "ERROR"
    assert span.error is not None
    assert span.error["type"] == "KeyError"


def test_threads_inherit_the_span_through_wrap_and_the_executor(
    recorded: RecordingSink,
) -> None:
    @at.span(name="work", kind="TOOL")
    def work(i: int) -> int:
        return i * 2

    with at.span("root", kind="AGENT") as root:
        with at.ContextThreadPoolExecutor(max_workers=4) as pool:
            assert list(pool.map(work, range(4))) == [0, 2, 4, 6]
            assert pool.submit(work, 5).result() == 10
        thread = threading.Thread(target=at.wrap(work), args=(7,))
        thread.start()
        thread.join()
        bare = threading.Thread(target=work, args=(8,))  # no helper: a new trace
        bare.start()
        bare.join()
    works = [s for s in recorded.ended if s.name == "work"]
    assert len(works) == 7
    children = [s for s in works if s.parent_span_id == root.span_id]
    assert len(children) == 6
    assert all(s.trace_id == root.trace_id for s in children)
    orphan = next(s for s in works if s.input == {"i": 8})
    assert orphan.parent_span_id is None
    assert orphan.trace_id != root.trace_id


def test_manual_spans_and_use_span(recorded: RecordingSink) -> None:
    parent = at.start_span("manual", kind="CHAIN")
    with at.use_span(parent):
        child = at.start_span("child")
        child.end()
    assert at.current_span() is not parent
    parent.set_output({"ok": True}).end()
    parent.end()  # a second end changes nothing
    assert [s.name for s in recorded.ended] == ["child", "manual"]
    assert child.parent_span_id == parent.span_id


def test_trace_fields_are_shared_by_every_span(recorded: RecordingSink) -> None:
    with at.span("root"):
        at.update_current_trace(user_id="u1", session_id="s1", tags=["a"], metadata={"k": 1})
        with at.span("child") as child:
            at.update_current_trace(tags=["b", "a"], metadata={"j": 2})
    trace = child.trace
    assert (trace.user_id, trace.session_id, trace.tags, trace.metadata) == (
        "u1",
        "s1",
        ["a", "b"],
        {"k": 1, "j": 2},
    )
    at.update_current_trace(user_id="nobody")  # outside a span: nothing happens


def test_unknown_kind_is_refused_at_decoration() -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        at.span("x", kind="ROBOT")


def test_sampling_decides_per_trace(recorded: RecordingSink) -> None:
    from agenttrace_sdk import spans as spans_module

    spans_module.install(spans_module.Runtime(recorded, sample_rate=0.0))
    with at.span("root") as root, at.span("child") as child:
        pass
    assert not root.recording
    assert not child.recording
    assert child.trace is root.trace
    assert recorded.ended == []
