"""Carrying the current span into other threads.

A new thread starts with an empty context, so spans created there would start new
traces. ``wrap`` binds a function to the caller's context; ``ContextThreadPoolExecutor``
does it for every task it is given.
"""

from __future__ import annotations

import contextvars
import functools
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def wrap(func: F) -> F:
    """``func`` bound to the context current now (the current span included): run it in
    any thread, as often as you like; each call runs in its own copy of that context."""
    context = contextvars.copy_context()

    @functools.wraps(func)
    def in_context(*args: Any, **kwargs: Any) -> Any:
        return context.copy().run(func, *args, **kwargs)

    return in_context  # type: ignore[return-value]


class ContextThreadPoolExecutor(ThreadPoolExecutor):
    """A ThreadPoolExecutor whose tasks (``submit`` and ``map``) run under the submitting
    thread's current span."""

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        context = contextvars.copy_context()
        return super().submit(context.run, fn, *args, **kwargs)
