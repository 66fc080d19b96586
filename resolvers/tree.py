"""A trace's spans in tree order, each with its depth: what the span tree and waterfall
draw. Spans whose parent has not arrived (yet), and spans caught in a parent cycle, are
shown as roots rather than hidden."""

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
    """Every span once, depth-first, children by start time. Iterative: a 10,000-deep
    chain is fine. Spans in a parent cycle (ingest accepts a span that is its own parent,
    or A -> B -> A) have no root above them: after the walk from the roots, each one not
    yet reached becomes a root itself (by start time) and its subtree follows it."""
    children: dict[int, list[SpanData]] = {}
    for span in spans:
        if span.parent_span_id is not None:
            children.setdefault(span.parent_span_id, []).append(span)
    for siblings in children.values():
        siblings.sort(key=_order)
    ordered: list[TreeSpan] = []
    seen: set[int] = set()

    def walk(top: SpanData) -> None:
        stack = [(top, 0)]
        while stack:
            span, depth = stack.pop()
            if span.span_id in seen:  # a cycle leads back to a span already placed
                continue
            seen.add(span.span_id)
            ordered.append(TreeSpan(span, depth))
            stack.extend((child, depth + 1) for child in reversed(children.get(span.span_id, [])))

    for root in roots(spans):
        walk(root)
    for span in sorted(spans, key=_order):
        if span.span_id not in seen:
            walk(span)
    return ordered
