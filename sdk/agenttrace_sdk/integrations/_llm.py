"""What the LLM client integrations share: a span per call, and stream proxies that keep the
span open until the stream is exhausted, closed or fails, then record what it assembled.

Nothing here imports a provider's package: the integrations patch the client's methods and
read the responses by attribute, so they work across the clients' versions.
"""

from __future__ import annotations

import contextlib
import inspect
import time
from typing import Any, Callable

from agenttrace_sdk.capture import to_jsonable
from agenttrace_sdk.spans import Span, start_span


def field(obj: Any, name: str, default: Any = None) -> Any:
    """``obj.name`` or ``obj[name]`` (responses are models, requests are dicts)."""
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(name, default)
    try:
        return getattr(obj, name, default)
    except Exception:  # noqa: BLE001  a property that raises is a missing field
        return default


def dump(obj: Any) -> Any:
    """A JSON-ready copy of a response object (pydantic models without their unset fields)."""
    model_dump = getattr(obj, "model_dump", None)
    if callable(model_dump):
        try:
            return to_jsonable(model_dump(exclude_unset=True, exclude_none=True))
        except Exception:  # noqa: BLE001
            pass
    return to_jsonable(obj)


def given(value: Any) -> bool:
    """False for None and the clients' ``NOT_GIVEN`` / ``omit`` sentinels."""
    return value is not None and type(value).__name__ not in ("NotGiven", "Omit")


def start_llm_span(
    name: str, provider: str, kwargs: dict[str, Any], params: tuple[str, ...]
) -> Span:
    """An LLM span, child of the current span, with the request's model and parameters."""
    span = start_span(name, "LLM")
    span.set_attribute("llm.provider", provider)
    model = kwargs.get("model")
    if given(model):
        span.set_model(str(model))
    for param in params:
        value = kwargs.get(param)
        if given(value):
            span.set_attribute(f"llm.request.{param}", value)
    if kwargs.get("stream") is True:
        span.set_attribute("llm.stream", True)
    return span


def is_async(method: Any) -> bool:
    """Whether ``method`` is async (the clients decorate theirs with sync-looking wrappers)."""
    try:
        return inspect.iscoroutinefunction(inspect.unwrap(method))
    except ValueError:
        return inspect.iscoroutinefunction(method)


def fail(span: Span, exc: BaseException) -> None:
    """Records ``exc`` (and the HTTP status of an API error) and ends the span."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        span.set_attribute("http.status_code", status)
    span.record_exception(exc)
    span.end()


class Accumulator:
    """Collects a stream's items; ``add`` returns False for an item the caller must not see
    (one the integration asked for on its own), ``finish`` records the result on the span."""

    def __init__(self, span: Span) -> None:
        self.span = span
        self.started = time.monotonic()
        self.first_token = False

    def mark_first_token(self) -> None:
        if not self.first_token:
            self.first_token = True
            ttft_ms = round((time.monotonic() - self.started) * 1000, 3)
            self.span.set_attribute("llm.time_to_first_token_ms", ttft_ms)
            self.span.add_event("first_token", {"time_to_first_token_ms": ttft_ms})

    def add(self, item: Any) -> bool:
        return True

    def finish(self) -> None:
        pass


class _StreamState:
    __slots__ = ("acc", "done", "inner")

    def __init__(self, inner: Any, acc: Accumulator) -> None:
        self.inner = inner
        self.acc = acc
        self.done = False

    def end(self, exc: BaseException | None = None, early: bool = False) -> None:
        if self.done:
            return
        self.done = True
        span = self.acc.span
        with contextlib.suppress(Exception):  # a surprising chunk must not hide the caller's result
            self.acc.finish()
        if early:
            span.set_attribute("llm.stream.closed_early", True)
        if exc is not None and not isinstance(exc, GeneratorExit):
            fail(span, exc)
        else:
            span.end()


class TracedStream:
    """Stands in for the client's sync stream: iterate it, ``close()`` it or use it in a
    ``with`` block as the original; other attributes (``response``...) are the original's."""

    def __init__(self, inner: Any, acc: Accumulator) -> None:
        self._state = _StreamState(inner, acc)

    def __iter__(self) -> TracedStream:
        return self

    def __next__(self) -> Any:
        state = self._state
        while True:
            try:
                item = next(state.inner)
            except StopIteration:
                state.end()
                raise
            except BaseException as exc:
                state.end(exc)
                raise
            if _add(state.acc, item):
                return item

    def close(self) -> None:
        state = self._state
        try:
            state.inner.close()
        finally:
            state.end(early=True)

    def __enter__(self) -> TracedStream:
        return self

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        state = self._state
        try:
            state.inner.close()
        finally:
            state.end(exc, early=exc is None)

    def __getattr__(self, name: str) -> Any:
        state = self.__dict__.get("_state")
        if state is None:
            raise AttributeError(name)
        return getattr(state.inner, name)

    def __del__(self) -> None:  # an abandoned stream still ends its span
        state = self.__dict__.get("_state")
        if state is not None and not state.done:
            state.end(early=True)


class AsyncTracedStream:
    """The async counterpart of ``TracedStream`` (``async for``, ``await close()``,
    ``async with``)."""

    def __init__(self, inner: Any, acc: Accumulator) -> None:
        self._state = _StreamState(inner, acc)

    def __aiter__(self) -> AsyncTracedStream:
        return self

    async def __anext__(self) -> Any:
        state = self._state
        while True:
            try:
                item = await state.inner.__anext__()
            except StopAsyncIteration:
                state.end()
                raise
            except BaseException as exc:
                state.end(exc)
                raise
            if _add(state.acc, item):
                return item

    async def close(self) -> None:
        state = self._state
        try:
            await state.inner.close()
        finally:
            state.end(early=True)

    async def __aenter__(self) -> AsyncTracedStream:
        return self

    async def __aexit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        state = self._state
        try:
            await state.inner.close()
        finally:
            state.end(exc, early=exc is None)

    def __getattr__(self, name: str) -> Any:
        state = self.__dict__.get("_state")
        if state is None:
            raise AttributeError(name)
        return getattr(state.inner, name)

    def __del__(self) -> None:
        state = self.__dict__.get("_state")
        if state is not None and not state.done:
            state.end(early=True)


def _add(acc: Accumulator, item: Any) -> bool:
    try:
        return acc.add(item)
    except Exception:  # noqa: BLE001  tracing never breaks the caller's stream
        return True


def patch(
    resource: Any,
    method: str,
    wrapper: Callable[[Callable[..., Any]], Callable[..., Any]],
) -> bool:
    """Replaces ``resource.method`` on this instance with ``wrapper(original)``, once."""
    if resource is None:
        return False
    original = getattr(resource, method, None)
    if original is None or getattr(original, "__agenttrace_wrapped__", False):
        return False
    wrapped = wrapper(original)
    wrapped.__agenttrace_wrapped__ = True  # type: ignore[attr-defined]
    setattr(resource, method, wrapped)
    return True
