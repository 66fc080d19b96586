"""A trace's spans in tree order, each with its depth: what the span tree and waterfall
draw. Spans whose parent has not arrived (yet) are shown as roots rather than hidden."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from resolvers.records import SpanData


@dataclass(frozen=True, slots=True)
class TreeSpan:
    span: SpanData
    depth: int


def _order(span: SpanData) -> tuple[object, int]:
    return (span.start_time, span.span_id)


def roots(spans: Sequence[SpanData]) -> list[SpanData]:
    present = {s.span_id for s in spans}
    return sorted(
        (s for s in spans if s.parent_span_id is None or s.parent_span_id not in present),
        key=_order,
    )


def tree_order(spans: Sequence[SpanData]) -> list[TreeSpan]:
    """Depth-first, children by start time. Iterative: a 10,000-deep chain is fine."""
    children: dict[int, list[SpanData]] = {}
    for span in spans:
        if span.parent_span_id is not None:
            children.setdefault(span.parent_span_id, []).append(span)
    for siblings in children.values():
        siblings.sort(key=_order)
    ordered: list[TreeSpan] = []
    seen: set[int] = set()
    stack = [(root, 0) for root in reversed(roots(spans))]
    while stack:
        span, depth = stack.pop()
        if span.span_id in seen:  # a parent cycle in bad data must not loop forever
            continue
        seen.add(span.span_id)
        ordered.append(TreeSpan(span, depth))
        stack.extend((child, depth + 1) for child in reversed(children.get(span.span_id, [])))
    return ordered
