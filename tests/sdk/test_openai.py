"""The OpenAI integration: the real ``openai`` client against a fake OpenAI-compatible server
on loopback, its spans sent to a real ``agenttrace serve`` and read back through REST."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import agenttrace_sdk as at
import pytest
from agenttrace_sdk.integrations.openai import instrument

from tests.e2e.helpers import Api
from tests.sdk.conftest import RecordingSink, spans_by_name
from tests.sdk.fake_llm import FakeLLM

openai = pytest.importorskip("openai")

MESSAGES = [{"role": "user", "content": "Say hello"}]
ASSISTANT = {"role": "assistant", "content": "Hello"}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


def client(fake: FakeLLM) -> Any:
    return instrument(
        openai.OpenAI(api_key="sk-test", base_url=f"{fake.base_url}/v1", max_retries=0)
    )


def async_client(fake: FakeLLM) -> Any:
    return instrument(
        openai.AsyncOpenAI(api_key="sk-test", base_url=f"{fake.base_url}/v1", max_retries=0)
    )


def llm_spans(trace: dict[str, Any]) -> list[dict[str, Any]]:
    return sorted((s for s in trace["spans"] if s["kind"] == "LLM"), key=lambda s: s["start_time"])


def assert_chat_span(span: dict[str, Any], parent_id: str, stream: bool) -> None:
    assert span["name"] == "openai.chat.completions"
    assert span["parent_span_id"] == parent_id
    assert span["model"] == "gpt-test-2025"  # the model the server answered with
    assert span["input"] == MESSAGES
    assert span["output"] == ASSISTANT
    assert (span["input_tokens"], span["output_tokens"], span["total_tokens"]) == (11, 2, 13)
    assert span["status"] == "OK"
    assert span["end_time"] is not None
    assert span["attributes"]["llm.provider"] == "openai"
    assert span["attributes"]["llm.finish_reason"] == "stop"
    assert span["attributes"]["llm.request.temperature"] == 0.5
    if stream:
        assert span["attributes"]["llm.stream"] is True
        assert span["attributes"]["llm.time_to_first_token_ms"] >= 0
        assert [e["name"] for e in span["events"]] == ["first_token"]
    else:
        assert "llm.time_to_first_token_ms" not in span["attributes"]


def test_sync_calls_streaming_or_not_are_llm_spans_under_the_agent(sdk: Api, fake: FakeLLM) -> None:
    chunks: list[Any] = []
    with client(fake) as oa:

        @at.trace(name="agent", kind="AGENT")
        def agent() -> str:
            reply = oa.chat.completions.create(model="gpt-test", messages=MESSAGES, temperature=0.5)
            stream = oa.chat.completions.create(
                model="gpt-test", messages=MESSAGES, temperature=0.5, stream=True
            )
            chunks.extend(stream)
            response = oa.responses.create(
                model="gpt-test", input="Say hello", instructions="Be brief"
            )
            text = "".join(c.choices[0].delta.content or "" for c in chunks)
            return f"{reply.choices[0].message.content} {text} {response.output_text}"

        with at.span("outer") as outer:
            assert agent() == "Hello Hello Hello"
    # The usage-only chunk the integration asked for is not handed to the caller.
    assert all(chunk.choices for chunk in chunks)
    assert fake.requests[-2][1]["stream_options"] == {"include_usage": True}
    assert at.flush(30)

    trace = sdk.wait_for_trace(outer.trace_id, 5)
    agent_id = spans_by_name(trace)["agent"]["span_id"]
    chat, streamed, responses = llm_spans(trace)
    assert_chat_span(chat, agent_id, stream=False)
    assert_chat_span(streamed, agent_id, stream=True)
    assert responses["name"] == "openai.responses"
    assert responses["parent_span_id"] == agent_id
    assert responses["input"] == {"instructions": "Be brief", "input": "Say hello"}
    assert responses["output"] == "Hello"
    assert (responses["input_tokens"], responses["output_tokens"]) == (7, 2)
    assert trace["total_tokens"] == 13 + 13 + 9


async def test_async_calls_streaming_or_not_are_llm_spans_under_the_agent(
    sdk: Api, fake: FakeLLM
) -> None:
    async with async_client(fake) as oa:

        @at.trace(name="agent", kind="AGENT")
        async def agent() -> list[str]:
            reply = await oa.chat.completions.create(
                model="gpt-test", messages=MESSAGES, temperature=0.5
            )
            parts = [reply.choices[0].message.content]
            stream = await oa.chat.completions.create(
                model="gpt-test", messages=MESSAGES, temperature=0.5, stream=True
            )
            async with stream:
                parts += [c.choices[0].delta.content async for c in stream]
            events = await oa.responses.create(model="gpt-test", input="Say hello", stream=True)
            parts += [e.type async for e in events]
            return parts

        with at.span("outer") as outer:
            parts = await agent()
    assert parts == [
        "Hello",
        "",
        "Hel",
        "lo",
        None,
        "response.output_text.delta",
        "response.output_text.delta",
        "response.completed",
    ]
    assert at.flush(30)

    trace = sdk.wait_for_trace(outer.trace_id, 5)
    agent_id = spans_by_name(trace)["agent"]["span_id"]
    chat, streamed, responses = llm_spans(trace)
    assert_chat_span(chat, agent_id, stream=False)
    assert_chat_span(streamed, agent_id, stream=True)
    assert responses["output"] == "Hello"
    assert responses["attributes"]["llm.time_to_first_token_ms"] >= 0
    assert (responses["input_tokens"], responses["output_tokens"]) == (7, 2)


def test_api_errors_are_recorded_on_the_span_and_reraised(sdk: Api, fake: FakeLLM) -> None:
    with client(fake) as oa, at.span("outer", kind="AGENT") as outer:
        with pytest.raises(openai.InternalServerError):
            oa.chat.completions.create(model="fail-500", messages=MESSAGES)
        with pytest.raises(openai.BadRequestError):
            oa.chat.completions.create(model="fail-400", messages=MESSAGES, stream=True)
    assert at.flush(30)

    trace = sdk.wait_for_trace(outer.trace_id, 3)
    for span, status in zip(llm_spans(trace), (500, 400), strict=True):
        assert span["status"] == "ERROR"
        assert span["parent_span_id"] == outer.span_id
        assert span["attributes"]["http.status_code"] == status
        assert span["error"]["type"] == (
            "openai.InternalServerError" if status == 500 else "openai.BadRequestError"
        )
        assert f"fake error {status}" in span["error"]["message"]
        assert span["model"] == f"fail-{status}"


async def test_an_async_api_error_is_recorded_and_reraised(
    recorded: RecordingSink, fake: FakeLLM
) -> None:
    async with async_client(fake) as oa:
        with pytest.raises(openai.InternalServerError):
            await oa.chat.completions.create(model="fail-500", messages=MESSAGES)
    (span,) = recorded.ended
    assert (span.status, span.attributes["http.status_code"]) == ("ERROR", 500)


def test_the_callers_stream_options_are_left_alone(recorded: RecordingSink, fake: FakeLLM) -> None:
    with client(fake) as oa:
        stream = oa.chat.completions.create(
            model="gpt-test", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
        )
        chunks = list(stream)
        assert chunks[-1].choices == []  # asked for by the caller, so the caller gets it
        list(
            oa.chat.completions.create(
                model="gpt-test", messages=MESSAGES, stream=True, stream_options=None
            )
        )
        list(oa.chat.completions.create(model="gpt-test", messages=MESSAGES, stream=True))
    first, second, third = recorded.ended
    assert first.input_tokens == 11
    assert second.input_tokens is None
    assert third.input_tokens == 11
    assert fake.requests[-2][1].get("stream_options") is None
    assert fake.requests[-1][1]["stream_options"] == {"include_usage": True}


def test_without_stream_usage_the_request_is_unchanged(
    recorded: RecordingSink, fake: FakeLLM
) -> None:
    oa = instrument(
        openai.OpenAI(api_key="sk-test", base_url=f"{fake.base_url}/v1", max_retries=0),
        stream_usage=False,
    )
    with oa:
        chunks = list(oa.chat.completions.create(model="gpt-test", messages=MESSAGES, stream=True))
    assert len(chunks) == 4
    assert "stream_options" not in fake.requests[-1][1]
    (span,) = recorded.ended
    assert span.output == ASSISTANT
    assert span.input_tokens is None


def test_a_stream_closed_early_ends_its_span(recorded: RecordingSink, fake: FakeLLM) -> None:
    with client(fake) as oa:
        stream = oa.chat.completions.create(model="gpt-test", messages=MESSAGES, stream=True)
        with stream:
            for chunk in stream:
                if chunk.choices[0].delta.content:
                    break
            assert not recorded.ended  # open while the stream is
        (span,) = recorded.ended
        assert span.attributes["llm.stream.closed_early"] is True
        assert span.output == {"role": "assistant", "content": "Hel"}
        assert span.status == "OK"
        assert stream.response.status_code == 200  # the original's attributes


def test_instrument_is_idempotent(recorded: RecordingSink, fake: FakeLLM) -> None:
    with client(fake) as oa:
        create = oa.chat.completions.create
        assert instrument(oa) is oa
        assert oa.chat.completions.create is create
        oa.chat.completions.create(model="gpt-test", messages=MESSAGES)
    assert len(recorded.ended) == 1


def test_streamed_tool_calls_are_assembled(recorded: RecordingSink) -> None:
    from agenttrace_sdk.integrations.openai import _ChatStream

    span = at.start_span("llm", "LLM")
    acc = _ChatStream(span, hide_usage=False)

    def chunk(delta: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
        return {"model": "m", "choices": [{"index": 0, "delta": delta, "finish_reason": reason}]}

    call = {"index": 0, "id": "call_1", "function": {"name": "add", "arguments": '{"a": '}}
    acc.add(chunk({"role": "assistant", "tool_calls": [call]}))
    acc.add(chunk({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]}))
    acc.add(chunk({}, "tool_calls"))
    acc.finish()
    span.end()
    assert span.output == {
        "role": "assistant",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "add", "arguments": '{"a": 1}'},
            }
        ],
    }
    assert span.attributes["llm.finish_reason"] == "tool_calls"
    assert "llm.time_to_first_token_ms" in span.attributes
