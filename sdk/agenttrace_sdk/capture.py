"""Turns arbitrary Python values into JSON-ready copies, and caps them for the wire.

``to_jsonable`` runs on the caller's thread, so a captured value is frozen at the moment
it was captured; it never raises. ``limit_field`` runs on the exporter thread: it applies
the user's redaction hook and the per-field size cap.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import json
import math
from collections.abc import Mapping
from datetime import date, datetime, time
from typing import Any, Callable

MAX_DEPTH = 10
MAX_ITEMS = 1000
MAX_NODES = 10_000  # per captured value: nested containers cannot multiply the work
MAX_REPR = 1000
TRUNCATED = "_agenttrace_truncated"

Redactor = Callable[[Any], Any]
_SCALARS = (str, int, type(None))
_EXACT = frozenset({str, int, bool, type(None)})


def _repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001  a broken __repr__ must not break the caller
        text = f"<{type(value).__qualname__}>"
    return text if len(text) <= MAX_REPR else text[:MAX_REPR] + "..."


class _Budget:
    __slots__ = ("left",)

    def __init__(self) -> None:
        self.left = MAX_NODES

    def spend(self, count: int) -> bool:
        self.left -= count
        return self.left >= 0


def to_jsonable(value: Any) -> Any:
    """A JSON-ready copy of ``value``: containers copied (at most MAX_ITEMS per container,
    MAX_DEPTH levels and MAX_NODES in all), dataclasses and pydantic models as dicts, dates
    as ISO strings, anything else as its (shortened) repr. Never raises."""
    try:
        return _convert(value, 0, _Budget())
    except Exception:  # noqa: BLE001  capture must never break the traced call
        return f"<unserialisable {type(value).__qualname__}>"


def _convert(value: Any, depth: int, budget: _Budget) -> Any:
    kind = type(value)
    if kind in _EXACT:  # the common case, without the isinstance chain
        return value
    if isinstance(value, (Mapping, list, tuple, set, frozenset)) and not budget.spend(len(value)):
        return "<truncated: too many items>"
    if (kind is list or kind is tuple) and depth < MAX_DEPTH and len(value) <= MAX_ITEMS:
        return [v if type(v) in _EXACT else _convert(v, depth + 1, budget) for v in value]
    if isinstance(value, _SCALARS):  # subclasses; bool is an int
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if depth >= MAX_DEPTH:
        return _repr(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for i, (k, v) in enumerate(value.items()):
            if i >= MAX_ITEMS:
                out["..."] = f"{len(value) - MAX_ITEMS} more items"
                break
            out[k if isinstance(k, str) else str(k)] = _convert(v, depth + 1, budget)
        return out
    if isinstance(value, (list, tuple, set, frozenset)):
        items: list[Any] = []
        for i, v in enumerate(value):
            if i >= MAX_ITEMS:
                items.append(f"... {len(value) - MAX_ITEMS} more items")
                break
            items.append(_convert(v, depth + 1, budget))
        return items
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    if isinstance(value, enum.Enum):
        return _convert(value.value, depth + 1, budget)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _convert(getattr(value, f.name, None), depth + 1, budget)
            for f in dataclasses.fields(value)
        }
    dump = getattr(value, "model_dump", None)  # pydantic v2, without importing it
    if callable(dump) and not isinstance(value, type):
        return _convert(dump(), depth + 1, budget)
    return _repr(value)


def simple_parameters(signature: inspect.Signature | None) -> tuple[str, ...] | None:
    """The parameter names when every one is plain positional-or-keyword (the fast path of
    ``capture_arguments``), else None."""
    if signature is None:
        return None
    kinds = {p.kind for p in signature.parameters.values()}
    if kinds - {inspect.Parameter.POSITIONAL_OR_KEYWORD}:
        return None
    return tuple(signature.parameters)


def capture_arguments(
    signature: inspect.Signature | None,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    names: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """The call's arguments by parameter name (``self`` and ``cls`` left out)."""
    if names is not None and len(args) <= len(names):
        captured = {
            name: to_jsonable(value)
            for name, value in zip(names, args)
            if name != "self" and name != "cls"
        }
        for name, value in kwargs.items():
            captured[name] = to_jsonable(value)
        return captured
    if signature is None:
        return {"args": to_jsonable(args), "kwargs": to_jsonable(kwargs)}
    try:
        bound = signature.bind_partial(*args, **kwargs)
    except TypeError:
        return {"args": to_jsonable(args), "kwargs": to_jsonable(kwargs)}
    return {
        name: to_jsonable(value)
        for name, value in bound.arguments.items()
        if name not in ("self", "cls")
    }


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def field_json(value: Any, redact: Redactor | None, max_bytes: int) -> str:
    """The value as JSON text for the wire, encoded once: redacted (a failing hook replaces
    the value, never leaks it) and, beyond ``max_bytes``, replaced by a marked preview."""
    if redact is not None:
        try:
            value = to_jsonable(redact(value))
        except Exception as exc:  # noqa: BLE001  fail closed: drop the value, never leak it
            return _dumps(f"[redaction failed: {type(exc).__qualname__}]")
    text = _dumps(value)
    if len(text) <= max_bytes // 4:  # cheap path: no character is wider than 4 bytes
        return text
    size = len(text.encode("utf-8"))
    if size <= max_bytes:
        return text
    preview = text.encode("utf-8")[:max_bytes].decode("utf-8", errors="ignore")
    return _dumps({TRUNCATED: True, "bytes": size, "preview": preview})


def limit_field(value: Any, redact: Redactor | None, max_bytes: int) -> Any:
    """``field_json`` as a value (None stays None)."""
    if value is None:
        return None
    return json.loads(field_json(value, redact, max_bytes))
