"""The Anthropic integration: the real ``anthropic`` client against a fake
Anthropic-compatible server on loopback, its spans sent to a real ``agenttrace serve`` and
read back through REST."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import agenttrace_sdk as at
import pytest
from agenttrace_sdk.integrations.anthropic import instrument

from tests.e2e.helpers import Api
from tests.sdk.conftest import RecordingSink, spans_by_name
from tests.sdk.fake_llm import FakeLLM

anthropic = pytest.importorskip("anthropic")

MESSAGES = [{"role": "user", "content": "Say hello"}]
INPUT = [{"role": "system", "content": "Be brief"}, *MESSAGES]
OUTPUT = {"role": "assistant", "content": "Hello"}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


def client(fake: FakeLLM) -> Any:
    return instrument(anthropic.Anthropic(api_key="sk-test", base_url=fake.base_url, max_retries=0))


def async_client(fake: FakeLLM) -> Any:
    return instrument(
        anthropic.AsyncAnthropic(api_key="sk-test", base_url=fake.base_url, max_retries=0)
    )


def call(**extra: Any) -> dict[str, Any]:
    return {
        "model": "claude-test",
        "max_tokens": 64,
        "system": "Be brief",
        "messages": MESSAGES,
        "stop_sequences": ["END"],
        **extra,
    }


def llm_spans(trace: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted((s for s in trace["spans"] if s["kind"] == "LLM"), key=lambda s: s["start_time"])


def assert_message_span(span: dict[str, Any], parent_id: str, ttft: bool) -> None:
    assert span["name"] == "anthropic.messages"
    assert span["parent_span_id"] == parent_id
    assert span["model"] == "claude-test-2025"
    assert span["input"] == INPUT
    assert span["output"] == OUTPUT
    assert (span["input_tokens"], span["output_tokens"], span["total_tokens"]) == (12, 3, 15)
    assert span["status"] == "OK"
    assert span["end_time"] is not None
    assert span["attributes"]["llm.provider"] == "anthropic"
    assert span["attributes"]["llm.finish_reason"] == "end_turn"
    assert span["attributes"]["llm.request.stop_sequences"] == ["END"]
    assert span["attributes"]["llm.request.max_tokens"] == 64
    if ttft:
        assert span["attributes"]["llm.time_to_first_token_ms"] >= 0
        assert [e["name"] for e in span["events"]] == ["first_token"]


def test_sync_calls_streaming_or_not_are_llm_spans_under_the_agent(sdk: Api, fake: FakeLLM) -> None:
    with client(fake) as ac:

        @at.trace(name="agent", kind="AGENT")
        def agent() -> list[str]:
            reply = ac.messages.create(**call())
            parts = [reply.content[0].text]
            events = ac.messages.create(**call(stream=True))
            parts += [e.delta.text for e in events if e.type == "content_block_delta"]
            with ac.messages.stream(**call()) as stream:
                parts += list(stream.text_stream)
            return parts

        with at.span("outer") as outer:
            assert agent() == ["Hello", "Hel", "lo", "Hel", "lo"]
    assert at.flush(30)

    trace = sdk.wait_for_trace(outer.trace_id, 5)
    agent_id = spans_by_name(trace)["agent"]["span_id"]
    plain, streamed, helper = llm_spans(trace)
    assert_message_span(plain, agent_id, ttft=False)
    assert_message_span(streamed, agent_id, ttft=True)
    assert_message_span(helper, agent_id, ttft=False)
    assert trace["total_tokens"] == 45


async def test_async_calls_streaming_or_not_are_llm_spans_under_the_agent(
    sdk: Api, fake: FakeLLM
) -> None:
    async with async_client(fake) as ac:

        @at.trace(name="agent", kind="AGENT")
        async def agent() -> list[str]:
            reply = await ac.messages.create(**call())
            parts = [reply.content[0].text]
            events = await ac.messages.create(**call(stream=True))
            async with events:
                parts += [e.delta.text async for e in events if e.type == "content_block_delta"]
            async with ac.messages.stream(**call()) as stream:
                parts += [text async for text in stream.text_stream]
            return parts

        with at.span("outer") as outer:
            assert await agent() == ["Hello", "Hel", "lo", "Hel", "lo"]
    assert at.flush(30)

    trace = sdk.wait_for_trace(outer.trace_id, 5)
    agent_id = spans_by_name(trace)["agent"]["span_id"]
    plain, streamed, helper = llm_spans(trace)
    assert_message_span(plain, agent_id, ttft=False)
    assert_message_span(streamed, agent_id, ttft=True)
    assert_message_span(helper, agent_id, ttft=False)


def test_api_errors_are_recorded_on_the_span_and_reraised(sdk: Api, fake: FakeLLM) -> None:
    with client(fake) as ac, at.span("outer", kind="AGENT") as outer:
        with pytest.raises(anthropic.InternalServerError):
            ac.messages.create(**call(model="fail-500"))
        with pytest.raises(anthropic.BadRequestError):
            ac.messages.create(**call(model="fail-400", stream=True))
    assert at.flush(30)

    trace = sdk.wait_for_trace(outer.trace_id, 3)
    for span, status in zip(llm_spans(trace), (500, 400), strict=True):
        assert span["status"] == "ERROR"
        assert span["parent_span_id"] == outer.span_id
        assert span["attributes"]["http.status_code"] == status
        assert span["error"]["type"] == (
            "anthropic.InternalServerError" if status == 500 else "anthropic.BadRequestError"
        )
        assert f"fake error {status}" in span["error"]["message"]


async def test_async_api_errors_are_recorded_and_reraised(
    recorded: RecordingSink, fake: FakeLLM
) -> None:
    async with async_client(fake) as ac:
        with pytest.raises(anthropic.InternalServerError):
            await ac.messages.create(**call(model="fail-500"))
        with pytest.raises(anthropic.BadRequestError):
            async with ac.messages.stream(**call(model="fail-400")):
                pass
    first, second = recorded.ended
    assert (first.status, first.attributes["http.status_code"]) == ("ERROR", 500)
    assert (second.status, second.attributes["http.status_code"]) == ("ERROR", 400)


def test_a_stream_closed_early_ends_its_span(recorded: RecordingSink, fake: FakeLLM) -> None:
    with client(fake) as ac:
        events = ac.messages.create(**call(stream=True))
        for event in events:
            if event.type == "content_block_delta":
                break
        assert not recorded.ended  # open while the stream is
        events.close()
    (span,) = recorded.ended
    assert span.attributes["llm.stream.closed_early"] is True
    assert span.output == {"role": "assistant", "content": "Hel"}
    assert span.input_tokens == 12


def test_streamed_tool_use_is_assembled(recorded: RecordingSink) -> None:
    from agenttrace_sdk.integrations.anthropic import _MessageStream

    span = at.start_span("llm", "LLM")
    acc = _MessageStream(span)
    block = {"type": "tool_use", "id": "toolu_1", "name": "add", "input": {}}
    for event in [
        {"type": "message_start", "message": {"model": "m", "usage": {"input_tokens": 5}}},
        {"type": "content_block_start", "index": 0, "content_block": block},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": '{"a"'}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": ": 1}"}},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": 4}},
    ]:  # fmt: skip
        acc.add(event)
    acc.finish()
    span.end()
    assert span.output == {
        "role": "assistant",
        "content": [{"type": "tool_use", "id": "toolu_1", "name": "add", "input": {"a": 1}}],
    }
    assert (span.input_tokens, span.output_tokens) == (5, 4)
    assert span.attributes["llm.finish_reason"] == "tool_use"
