"""``span`` (alias ``trace``): one object that is both a decorator and a context manager.

Decorated sync and async functions get a span per call; generators and async generators
get one span from the first item to exhaustion or ``close()``, current only while the
generator body runs. Arguments become the span's input and the return value (or the
yielded items) its output, unless capture is off. An exception escaping the body is
recorded on the span and re-raised unchanged.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncGenerator, Generator
from typing import (
    Any,
    Callable,
    TypeVar,
    cast,
    overload,
)

from agenttrace_sdk.capture import MAX_ITEMS, capture_arguments, simple_parameters
from agenttrace_sdk.spans import _CURRENT, Span, check_kind, start_span

F = TypeVar("F", bound=Callable[..., Any])


class SpanScope:
    """What ``span(...)`` returns: use it with ``with`` (the block is the span) or as a
    decorator (each call is a span)."""

    def __init__(
        self,
        name: str | None,
        kind: str,
        capture: bool | None,
        attributes: dict[str, Any] | None,
    ) -> None:
        self.name = name
        self.kind = check_kind(kind)
        self.capture = capture
        self.attributes = attributes
        self._active: list[tuple[Span, Any]] = []

    def start(self, name: str) -> Span:
        started = start_span(name, self.kind, capture=self.capture)
        if self.attributes:
            started.set_attributes(self.attributes)
        return started

    # Context manager: the block is the span.
    def __enter__(self) -> Span:
        started = self.start(self.name or "span")
        self._active.append((started, _CURRENT.set(started)))
        return started

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        # The entry of the span current here: one scope object entered by several asyncio
        # tasks at once must not hand one task's token to another.
        current = _CURRENT.get()
        index = next(
            (i for i in range(len(self._active) - 1, -1, -1) if self._active[i][0] is current),
            len(self._active) - 1,
        )
        started, token = self._active.pop(index)
        _CURRENT.reset(token)
        if exc is not None and not isinstance(exc, GeneratorExit):
            started.record_exception(exc)
        started.end()

    # Decorator: each call is a span.
    def __call__(self, func: F) -> F:
        name = self.name or getattr(func, "__qualname__", None) or repr(func)
        try:
            signature: inspect.Signature | None = inspect.signature(func)
        except (TypeError, ValueError):
            signature = None
        names = simple_parameters(signature)

        def begin(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Span:
            started = self.start(name)
            if started.capture and started.recording:
                started.input = capture_arguments(signature, args, kwargs, names)
            return started

        if inspect.isasyncgenfunction(func):
            return cast(F, _async_generator_wrapper(func, begin))
        if inspect.isgeneratorfunction(func):
            return cast(F, _generator_wrapper(func, begin))
        if inspect.iscoroutinefunction(func):
            return cast(F, _coroutine_wrapper(func, begin))
        return cast(F, _function_wrapper(func, begin))


Begin = Callable[[tuple[Any, ...], dict[str, Any]], Span]


def _finish(span: Span, result: Any) -> None:
    if span.capture and span.recording:
        span.set_output(result)
    span.end()


def _fail(span: Span, exc: BaseException) -> None:
    span.record_exception(exc)
    span.end()


def _function_wrapper(func: Callable[..., Any], begin: Begin) -> Callable[..., Any]:
    @functools.wraps(func)
    def traced(*args: Any, **kwargs: Any) -> Any:
        span = begin(args, kwargs)
        token = _CURRENT.set(span)
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            _CURRENT.reset(token)
            _fail(span, exc)
            raise
        _CURRENT.reset(token)
        _finish(span, result)
        return result

    return traced


def _coroutine_wrapper(func: Callable[..., Any], begin: Begin) -> Callable[..., Any]:
    @functools.wraps(func)
    async def traced(*args: Any, **kwargs: Any) -> Any:
        span = begin(args, kwargs)
        token = _CURRENT.set(span)
        try:
            result = await func(*args, **kwargs)
        except BaseException as exc:
            _CURRENT.reset(token)
            _fail(span, exc)
            raise
        _CURRENT.reset(token)
        _finish(span, result)
        return result

    return traced


class _Items:
    """The yielded items kept as the generator span's output (at most MAX_ITEMS)."""

    def __init__(self, span: Span) -> None:
        self.keep = span.capture and span.recording
        self.items: list[Any] = []
        self.count = 0

    def add(self, item: Any) -> None:
        self.count += 1
        if self.keep and len(self.items) < MAX_ITEMS:
            self.items.append(item)

    def output(self, returned: Any) -> Any:
        if returned is not None:
            return {"items": self.items, "return": returned}
        return self.items


def _generator_wrapper(func: Callable[..., Any], begin: Begin) -> Callable[..., Any]:
    @functools.wraps(func)
    def traced(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        parent = _CURRENT.get()
        inner = func(*args, **kwargs)
        return _drive(inner, begin, args, kwargs, parent)

    return traced


def _drive(
    inner: Generator[Any, Any, Any],
    begin: Begin,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    parent: Span | None,
) -> Generator[Any, Any, Any]:
    # The span starts at the first item, under the span that was current at the call.
    token = _CURRENT.set(parent)
    try:
        span = begin(args, kwargs)
    finally:
        _CURRENT.reset(token)
    items = _Items(span)
    to_send: Any = None
    to_throw: BaseException | None = None
    try:
        while True:
            token = _CURRENT.set(span)
            try:
                if to_throw is not None:
                    thrown, to_throw = to_throw, None
                    item = inner.throw(thrown)
                else:
                    item = inner.send(to_send)
            except StopIteration as stop:
                _finish(span, items.output(stop.value))
                return stop.value
            finally:
                _CURRENT.reset(token)
            items.add(item)
            try:
                to_send = yield item
            except GeneratorExit:
                raise
            except BaseException as exc:  # noqa: BLE001  handed to the generator, as yield from does
                to_throw = exc
    except GeneratorExit:
        token = _CURRENT.set(span)
        try:
            inner.close()
        finally:
            _CURRENT.reset(token)
        span.set_attribute("generator.closed_early", True)
        _finish(span, items.output(None))
        raise
    except BaseException as exc:
        if not span.ended:
            _fail(span, exc)
        raise


def _async_generator_wrapper(func: Callable[..., Any], begin: Begin) -> Callable[..., Any]:
    @functools.wraps(func)
    def traced(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        parent = _CURRENT.get()
        inner = func(*args, **kwargs)
        return _drive_async(inner, begin, args, kwargs, parent)

    return traced


async def _drive_async(
    inner: AsyncGenerator[Any, Any],
    begin: Begin,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    parent: Span | None,
) -> AsyncGenerator[Any, Any]:
    token = _CURRENT.set(parent)
    try:
        span = begin(args, kwargs)
    finally:
        _CURRENT.reset(token)
    items = _Items(span)
    to_send: Any = None
    to_throw: BaseException | None = None
    try:
        while True:
            token = _CURRENT.set(span)
            try:
                if to_throw is not None:
                    thrown, to_throw = to_throw, None
                    item = await inner.athrow(thrown)
                else:
                    item = await inner.asend(to_send)
            except StopAsyncIteration:
                _finish(span, items.output(None))
                return
            finally:
                _CURRENT.reset(token)
            items.add(item)
            try:
                to_send = yield item
            except GeneratorExit:
                raise
            except BaseException as exc:  # noqa: BLE001  handed to the generator, as yield from does
                to_throw = exc
    except GeneratorExit:
        token = _CURRENT.set(span)
        try:
            await inner.aclose()
        finally:
            _CURRENT.reset(token)
        span.set_attribute("generator.closed_early", True)
        _finish(span, items.output(None))
        raise
    except BaseException as exc:
        if not span.ended:
            _fail(span, exc)
        raise


@overload
def span(name: F) -> F: ...


@overload
def span(
    name: str | None = None,
    *,
    kind: str = "SPAN",
    capture: bool | None = None,
    attributes: dict[str, Any] | None = None,
) -> SpanScope: ...


def span(
    name: str | F | None = None,
    *,
    kind: str = "SPAN",
    capture: bool | None = None,
    attributes: dict[str, Any] | None = None,
) -> SpanScope | F:
    """A span around a block (``with span("search", kind="TOOL") as s:``) or around each
    call of a function (``@span``, ``@span(kind="LLM", name="chat")``). ``capture=False``
    keeps this span's input and output off the wire. ValueError for an unknown kind."""
    if callable(name):
        return SpanScope(None, kind, capture, attributes)(name)
    return SpanScope(name, kind, capture, attributes)


trace = span
