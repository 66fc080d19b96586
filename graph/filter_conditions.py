"""Turns a TraceFilter or SpanFilter input into the resolvers' Conditions (one mapping
for both, so the two filters cannot drift apart)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from resolvers.filters import Conditions


def to_conditions(f: Any, kinds: Sequence[str] | None) -> Conditions:
    return Conditions(
        time=f.time_range.to_range() if f.time_range else None,
        statuses=tuple(f.status or ()),
        name=f.name.to_match() if f.name else None,
        kinds=tuple(kinds or ()),
        models=tuple(f.model or ()),
        tags_any=tuple(f.tags_any or ()),
        tags_all=tuple(f.tags_all or ()),
        metadata=tuple(p.to_pair() for p in f.metadata or ()),
        attributes=tuple(p.to_pair() for p in f.attributes or ()),
        user_ids=tuple(f.user_id or ()),
        session_ids=tuple(f.session_id or ()),
        environments=tuple(f.environment or ()),
        duration_ms=f.duration_ms.to_range() if f.duration_ms else None,
        cost=f.cost.to_range() if f.cost else None,
        has_error=f.has_error,
        annotations=tuple(a.to_condition() for a in f.annotations or ()),
    )
