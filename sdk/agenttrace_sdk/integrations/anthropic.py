"""Anthropic: ``instrument(client)`` turns each ``messages.create`` call and each
``messages.stream(...)`` block of an ``anthropic.Anthropic`` or ``anthropic.AsyncAnthropic``
client into an LLM span, child of the span current at the call.

    from anthropic import Anthropic
    from agenttrace_sdk.integrations.anthropic import instrument

    client = instrument(Anthropic())

The span has the model (the one the server answered with), the input messages (the
``system`` prompt first, as a ``system`` message), the output (``{"role": "assistant",
"content": ...}``: a string when the reply is text only, else the content blocks), the token
usage (cache reads and writes as ``llm.usage.*`` attributes), the stop reason, and the
request's sampling parameters as ``llm.request.*`` attributes. An API error is recorded on
the span (with ``http.status_code``) and re-raised unchanged.

Streaming: ``messages.create(stream=True)`` returns a stand-in for the client's stream that
the caller iterates, closes or uses in a ``with`` block as the original; the span stays open
until the stream is exhausted, closed or fails, then gets the assembled output, the usage
and ``llm.time_to_first_token_ms`` (also a ``first_token`` event). ``messages.stream(...)``
is traced from entering its ``with`` block to leaving it, from the stream's final snapshot
(no time to first token there).

This module does not import ``anthropic``: it patches the client instance's methods (a
client made by ``client.with_options(...)`` is a new, uninstrumented one) and reads the
responses by attribute. ``with_raw_response`` / ``with_streaming_response`` calls are not
traced.
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

__all__ = ["instrument", "wrap_anthropic"]

C = TypeVar("C")

_PARAMS = (
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
    "tool_choice",
    "thinking",
)


def instrument(client: C) -> C:
    """Traces ``client``'s ``messages.create`` and ``messages.stream`` (sync or async
    client); returns the client. Calling it twice on one client does nothing more."""
    messages = getattr(client, "messages", None)
    patch(messages, "create", _wrap_create)
    patch(messages, "stream", _wrap_stream)
    return client


wrap_anthropic = instrument


def _begin(kwargs: dict[str, Any]) -> Span:
    span = start_llm_span("anthropic.messages", "anthropic", kwargs, _PARAMS)
    messages: Any = kwargs.get("messages")
    system: Any = kwargs.get("system")
    if given(messages) or given(system):
        value = list(messages) if given(messages) else []
        if given(system):
            value = [{"role": "system", "content": system}, *value]
        span.set_input(value)
    tools: Any = kwargs.get("tools")
    if given(tools) and span.capture:
        span.set_attribute("llm.request.tools", list(tools))
    return span


def _wrap_create(original: Callable[..., Any]) -> Callable[..., Any]:
    if is_async(original):

        @functools.wraps(original)
        async def traced_async(*args: Any, **kwargs: Any) -> Any:
            span = _begin(kwargs)
            try:
                result = await original(*args, **kwargs)
            except BaseException as exc:
                fail(span, exc)
                raise
            if kwargs.get("stream") is True:
                return AsyncTracedStream(result, _MessageStream(span))
            _record(span, result)
            return result

        return traced_async

    @functools.wraps(original)
    def traced(*args: Any, **kwargs: Any) -> Any:
        span = _begin(kwargs)
        try:
            result = original(*args, **kwargs)
        except BaseException as exc:
            fail(span, exc)
            raise
        if kwargs.get("stream") is True:
            return TracedStream(result, _MessageStream(span))
        _record(span, result)
        return result

    return traced


def _record(span: Span, message: Any) -> None:
    with contextlib.suppress(Exception):  # an unexpected response shape is not the caller's problem
        _message(span, message)
    span.end()


def _usage(span: Span, usage: Any) -> None:
    if usage is None:
        return
    span.set_tokens(input=field(usage, "input_tokens"), output=field(usage, "output_tokens"))
    for key in ("cache_creation_input_tokens", "cache_read_input_tokens"):
        value = field(usage, key)
        if isinstance(value, int) and value:
            span.set_attribute(f"llm.usage.{key}", value)


def _content(blocks: list[Any]) -> Any:
    if blocks and all(block.get("type") == "text" for block in blocks):
        return "".join(str(block.get("text", "")) for block in blocks)
    return blocks


def _message(span: Span, message: Any) -> None:
    model = field(message, "model")
    if model:
        span.set_model(model)
    message_id = field(message, "id")
    if message_id:
        span.set_attribute("llm.response.id", message_id)
    blocks = [dump(block) for block in field(message, "content") or []]
    span.set_output({"role": "assistant", "content": _content(blocks)})
    reason = field(message, "stop_reason")
    if reason:
        span.set_attribute("llm.finish_reason", reason)
    _usage(span, field(message, "usage"))


class _MessageStream(Accumulator):
    """Assembles a ``stream=True`` response's events into the message they describe."""

    def __init__(self, span: Span) -> None:
        super().__init__(span)
        self.model: str | None = None
        self.message_id: str | None = None
        self.blocks: dict[int, dict[str, Any]] = {}
        self.json: dict[int, str] = {}
        self.stop_reason: str | None = None
        self.input_tokens: Any = None
        self.output_tokens: Any = None
        self.cache: dict[str, Any] = {}
        self.error: str | None = None

    def add(self, item: Any) -> bool:
        kind = field(item, "type")
        if kind == "message_start":
            message = field(item, "message")
            self.model = field(message, "model") or self.model
            self.message_id = field(message, "id") or self.message_id
            self._usage(field(message, "usage"))
        elif kind == "content_block_start":
            self.blocks[field(item, "index", 0) or 0] = dump(field(item, "content_block")) or {}
        elif kind == "content_block_delta":
            index = field(item, "index", 0) or 0
            block = self.blocks.setdefault(index, {"type": "text", "text": ""})
            delta = field(item, "delta")
            delta_type = field(delta, "type")
            self.mark_first_token()
            if delta_type == "text_delta":
                block["text"] = str(block.get("text") or "") + (field(delta, "text") or "")
            elif delta_type == "input_json_delta":
                self.json[index] = self.json.get(index, "") + (field(delta, "partial_json") or "")
            elif delta_type == "thinking_delta":
                block["thinking"] = str(block.get("thinking") or "") + (
                    field(delta, "thinking") or ""
                )
        elif kind == "message_delta":
            self.stop_reason = field(field(item, "delta"), "stop_reason") or self.stop_reason
            self._usage(field(item, "usage"))
        elif kind == "error":
            self.error = str(field(field(item, "error"), "message") or "stream error")
        return True

    def _usage(self, usage: Any) -> None:
        if usage is None:
            return
        self.input_tokens = field(usage, "input_tokens") or self.input_tokens
        self.output_tokens = field(usage, "output_tokens") or self.output_tokens
        for key in ("cache_creation_input_tokens", "cache_read_input_tokens"):
            value = field(usage, key)
            if value:
                self.cache[key] = value

    def finish(self) -> None:
        span = self.span
        if self.model:
            span.set_model(self.model)
        if self.message_id:
            span.set_attribute("llm.response.id", self.message_id)
        blocks = []
        for index in sorted(self.blocks):
            block = self.blocks[index]
            if index in self.json:
                block["input"] = _parse_json(self.json[index])
            blocks.append(block)
        if blocks:
            span.set_output({"role": "assistant", "content": _content(blocks)})
        if self.stop_reason:
            span.set_attribute("llm.finish_reason", self.stop_reason)
        span.set_tokens(input=self.input_tokens, output=self.output_tokens)
        for key, value in self.cache.items():
            span.set_attribute(f"llm.usage.{key}", value)
        if self.error:
            span.set_status("ERROR", self.error)


def _parse_json(text: str) -> Any:
    import json

    try:
        return json.loads(text) if text else {}
    except ValueError:
        return text


def _wrap_stream(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def traced(*args: Any, **kwargs: Any) -> Any:
        manager = original(*args, **kwargs)
        return _StreamManager(manager, {**kwargs, "stream": True})

    return traced


class _StreamManager:
    """Stands in for ``messages.stream(...)``'s manager (sync ``with`` or ``async with``):
    the span runs from entering the block to leaving it."""

    def __init__(self, manager: Any, kwargs: dict[str, Any]) -> None:
        self._manager = manager
        self._kwargs = kwargs
        self._span: Span | None = None
        self._stream: Any = None

    def __enter__(self) -> Any:
        self._span = _begin(self._kwargs)
        try:
            self._stream = self._manager.__enter__()
        except BaseException as exc:
            fail(self._span, exc)
            raise
        return self._stream

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> Any:
        try:
            return self._manager.__exit__(kind, exc, tb)
        finally:
            self._end(exc)

    async def __aenter__(self) -> Any:
        self._span = _begin(self._kwargs)
        try:
            self._stream = await self._manager.__aenter__()
        except BaseException as exc:
            fail(self._span, exc)
            raise
        return self._stream

    async def __aexit__(self, kind: Any, exc: BaseException | None, tb: Any) -> Any:
        try:
            return await self._manager.__aexit__(kind, exc, tb)
        finally:
            self._end(exc)

    def _end(self, exc: BaseException | None) -> None:
        span = self._span
        if span is None or span.ended:
            return
        try:
            snapshot = field(self._stream, "current_message_snapshot")
            if snapshot is not None:
                _message(span, snapshot)
        except Exception:  # noqa: BLE001  no snapshot yet (nothing was read)
            pass
        if exc is not None:
            fail(span, exc)
        else:
            span.end()

    def __getattr__(self, name: str) -> Any:
        manager = self.__dict__.get("_manager")
        if manager is None:
            raise AttributeError(name)
        return getattr(manager, name)
