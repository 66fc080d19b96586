"""OpenAI: ``instrument(client)`` turns each ``chat.completions.create`` and
``responses.create`` call of an ``openai.OpenAI`` or ``openai.AsyncOpenAI`` client into an
LLM span, child of the span current at the call.

    from openai import OpenAI
    from agenttrace_sdk.integrations.openai import instrument

    client = instrument(OpenAI())

The span has the model (the one the server answered with), the input messages, the output
message, the token usage, the finish reason, and the request's sampling parameters as
``llm.request.*`` attributes. An API error is recorded on the span (with
``http.status_code``) and re-raised unchanged.

Streaming (``stream=True``): the call returns a stand-in for the client's stream that the
caller iterates, closes or uses in a ``with`` block as the original; the span stays open
until the stream is exhausted, closed or fails, then gets the assembled output, the usage
and ``llm.time_to_first_token_ms`` (also a ``first_token`` event). For chat completions the
token usage only comes in a stream when the request has ``stream_options={"include_usage":
True}``: when the caller did not pass ``stream_options`` at all, the integration adds it and
keeps the extra usage-only chunk (the one with no ``choices``) to itself, so the caller sees
the same chunks as without it. ``instrument(client, stream_usage=False)`` never changes the
request (streams then have no token counts unless the caller asks for them).

This module does not import ``openai``: it patches the client instance's methods (a client
made by ``client.with_options(...)`` is a new, uninstrumented one) and reads the responses
by attribute. Not traced: ``with_raw_response`` / ``with_streaming_response`` calls and the
``.stream(...)`` / ``.parse(...)`` helpers.
"""

from __future__ import annotations

import contextlib
import functools
from typing import Any, Callable, TypeVar

from agenttrace_sdk.integrations._llm import (
    Accumulator,
    AsyncTracedStream,
    TracedStream,
    dump,
    fail,
    field,
    given,
    is_async,
    patch,
    start_llm_span,
)
from agenttrace_sdk.spans import Span

__all__ = ["instrument", "wrap_openai"]

C = TypeVar("C")

_CHAT_PARAMS = (
    "temperature",
    "top_p",
    "max_tokens",
    "max_completion_tokens",
    "n",
    "stop",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "reasoning_effort",
    "tool_choice",
    "response_format",
)
_RESPONSES_PARAMS = ("temperature", "top_p", "max_output_tokens", "reasoning", "tool_choice")


def instrument(client: C, *, stream_usage: bool = True) -> C:
    """Traces ``client``'s ``chat.completions.create`` and ``responses.create`` (sync or
    async client); returns the client. Calling it twice on one client does nothing more."""
    chat = getattr(getattr(client, "chat", None), "completions", None)
    patch(chat, "create", lambda original: _wrap(original, _ChatCall(stream_usage)))
    responses = getattr(client, "responses", None)
    patch(responses, "create", lambda original: _wrap(original, _ResponsesCall()))
    return client


wrap_openai = instrument


class _Call:
    """One kind of call: how it starts its span and reads its result."""

    name = "openai"
    params: tuple[str, ...] = ()

    def begin(self, kwargs: dict[str, Any]) -> tuple[Span, dict[str, Any], bool]:
        raise NotImplementedError

    def result(self, span: Span, result: Any) -> None:
        raise NotImplementedError

    def accumulator(self, span: Span, hide_usage: bool) -> Accumulator:
        raise NotImplementedError


def _wrap(original: Callable[..., Any], call: _Call) -> Callable[..., Any]:
    if is_async(original):

        @functools.wraps(original)
        async def traced_async(*args: Any, **kwargs: Any) -> Any:
            span, kwargs, injected = call.begin(kwargs)
            try:
                result = await original(*args, **kwargs)
            except BaseException as exc:
                fail(span, exc)
                raise
            if kwargs.get("stream") is True:
                return AsyncTracedStream(result, call.accumulator(span, injected))
            _record(call, span, result)
            return result

        return traced_async

    @functools.wraps(original)
    def traced(*args: Any, **kwargs: Any) -> Any:
        span, kwargs, injected = call.begin(kwargs)
        try:
            result = original(*args, **kwargs)
        except BaseException as exc:
            fail(span, exc)
            raise
        if kwargs.get("stream") is True:
            return TracedStream(result, call.accumulator(span, injected))
        _record(call, span, result)
        return result

    return traced


def _record(call: _Call, span: Span, result: Any) -> None:
    with contextlib.suppress(Exception):  # an unexpected response shape is not the caller's problem
        call.result(span, result)
    span.end()


def _usage(span: Span, usage: Any, input_name: str, output_name: str) -> None:
    if usage is None:
        return
    span.set_tokens(
        input=field(usage, input_name),
        output=field(usage, output_name),
        total=field(usage, "total_tokens"),
    )
    for details, key in (
        ("prompt_tokens_details", "cached_tokens"),
        ("input_tokens_details", "cached_tokens"),
        ("completion_tokens_details", "reasoning_tokens"),
        ("output_tokens_details", "reasoning_tokens"),
    ):
        value = field(field(usage, details), key)
        if isinstance(value, int) and value:
            span.set_attribute(f"llm.usage.{key}", value)


class _ChatCall(_Call):
    params = _CHAT_PARAMS

    def __init__(self, stream_usage: bool) -> None:
        self.stream_usage = stream_usage

    def begin(self, kwargs: dict[str, Any]) -> tuple[Span, dict[str, Any], bool]:
        span = start_llm_span("openai.chat.completions", "openai", kwargs, self.params)
        messages: Any = kwargs.get("messages")
        if given(messages):
            span.set_input(list(messages) if not isinstance(messages, list) else messages)
        tools: Any = kwargs.get("tools")
        if given(tools) and span.capture:
            span.set_attribute("llm.request.tools", list(tools))
        injected = False
        if self.stream_usage and kwargs.get("stream") is True and "stream_options" not in kwargs:
            kwargs = {**kwargs, "stream_options": {"include_usage": True}}
            injected = True
        return span, kwargs, injected

    def result(self, span: Span, result: Any) -> None:
        model = field(result, "model")
        if model:
            span.set_model(model)
        response_id = field(result, "id")
        if response_id:
            span.set_attribute("llm.response.id", response_id)
        choices = field(result, "choices") or []
        messages = [dump(field(choice, "message")) for choice in choices]
        reasons = [field(choice, "finish_reason") for choice in choices]
        span.set_output(messages[0] if len(messages) == 1 else messages)
        if any(reasons):
            span.set_attribute("llm.finish_reason", reasons[0] if len(reasons) == 1 else reasons)
        _usage(span, field(result, "usage"), "prompt_tokens", "completion_tokens")

    def accumulator(self, span: Span, hide_usage: bool) -> Accumulator:
        return _ChatStream(span, hide_usage)


class _ChatStream(Accumulator):
    def __init__(self, span: Span, hide_usage: bool) -> None:
        super().__init__(span)
        self.hide_usage = hide_usage
        self.model: str | None = None
        self.response_id: str | None = None
        self.usage: Any = None
        self.choices: dict[int, dict[str, Any]] = {}

    def add(self, item: Any) -> bool:
        self.model = field(item, "model") or self.model
        self.response_id = field(item, "id") or self.response_id
        usage = field(item, "usage")
        if usage is not None:
            self.usage = usage
        choices = field(item, "choices") or []
        for choice in choices:
            index = field(choice, "index", 0) or 0
            message = self.choices.setdefault(index, {"role": "assistant"})
            delta = field(choice, "delta")
            content = field(delta, "content")
            if content:
                self.mark_first_token()
                message["content"] = message.get("content", "") + content
            refusal = field(delta, "refusal")
            if refusal:
                self.mark_first_token()
                message["refusal"] = message.get("refusal", "") + refusal
            for call in field(delta, "tool_calls") or []:
                self.mark_first_token()
                calls = message.setdefault("tool_calls", {})
                slot = calls.setdefault(
                    field(call, "index", 0) or 0,
                    {"id": None, "type": "function", "function": {"name": "", "arguments": ""}},
                )
                slot["id"] = field(call, "id") or slot["id"]
                function = field(call, "function")
                slot["function"]["name"] += field(function, "name") or ""
                slot["function"]["arguments"] += field(function, "arguments") or ""
            reason = field(choice, "finish_reason")
            if reason:
                message["_finish_reason"] = reason
        # The usage-only chunk the integration asked for is not the caller's.
        return not (self.hide_usage and not choices and usage is not None)

    def finish(self) -> None:
        span = self.span
        if self.model:
            span.set_model(self.model)
        if self.response_id:
            span.set_attribute("llm.response.id", self.response_id)
        messages = []
        reasons = []
        for index in sorted(self.choices):
            message = self.choices[index]
            reasons.append(message.pop("_finish_reason", None))
            if "tool_calls" in message:
                calls = message["tool_calls"]
                message["tool_calls"] = [calls[i] for i in sorted(calls)]
            messages.append(message)
        if messages:
            span.set_output(messages[0] if len(messages) == 1 else messages)
        if any(reasons):
            span.set_attribute("llm.finish_reason", reasons[0] if len(reasons) == 1 else reasons)
        _usage(span, self.usage, "prompt_tokens", "completion_tokens")


class _ResponsesCall(_Call):
    params = _RESPONSES_PARAMS

    def begin(self, kwargs: dict[str, Any]) -> tuple[Span, dict[str, Any], bool]:
        span = start_llm_span("openai.responses", "openai", kwargs, self.params)
        value: Any = kwargs.get("input")
        instructions = kwargs.get("instructions")
        if given(instructions):
            value = {"instructions": instructions, "input": value if given(value) else None}
        if given(value):
            span.set_input(value)
        return span, kwargs, False

    def result(self, span: Span, result: Any) -> None:
        _response(span, result)

    def accumulator(self, span: Span, hide_usage: bool) -> Accumulator:
        return _ResponsesStream(span)


def _response(span: Span, response: Any) -> None:
    model = field(response, "model")
    if model:
        span.set_model(model)
    response_id = field(response, "id")
    if response_id:
        span.set_attribute("llm.response.id", response_id)
    text = field(response, "output_text")
    span.set_output(text if text else dump(field(response, "output")))
    status = field(response, "status")
    if status:
        span.set_attribute("llm.response.status", status)
    _usage(span, field(response, "usage"), "input_tokens", "output_tokens")


class _ResponsesStream(Accumulator):
    def __init__(self, span: Span) -> None:
        super().__init__(span)
        self.text: list[str] = []
        self.response: Any = None
        self.error: str | None = None

    def add(self, item: Any) -> bool:
        kind = field(item, "type")
        if kind == "response.output_text.delta":
            self.mark_first_token()
            self.text.append(field(item, "delta") or "")
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            self.response = field(item, "response")
        elif kind == "error":
            self.error = str(field(item, "message") or "stream error")
        return True

    def finish(self) -> None:
        span = self.span
        if self.response is not None:
            _response(span, self.response)
            error = field(field(self.response, "error"), "message")
            if error:
                span.set_status("ERROR", str(error))
        elif self.text:
            span.set_output("".join(self.text))
        if self.error:
            span.set_status("ERROR", self.error)
