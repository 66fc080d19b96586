"""Each trace's spans in tree order with depths, built once per request from the
spans-by-trace loader (no SQL of its own), so depth and descendants stay O(n)."""

from __future__ import annotations

from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from loaders.spans_by_trace import SpansByTraceLoader
from resolvers.records import SpanData, TraceKey
from resolvers.tree import TreeSpan, tree_order

Key = TraceKey


@dataclass(frozen=True, slots=True)
class TraceTree:
    ordered: list[TreeSpan]
    depth: dict[int, int]
    children: dict[int, list[SpanData]]

    @classmethod
    def of(cls, ordered: list[TreeSpan]) -> TraceTree:
        """The tree that ``ordered`` (tree_order's output) draws. Each span's parent here
        is the nearest span before it one level up, not its ``parent_span_id``: the same
        thing for well-formed data, and for a span in a parent cycle (placed as a root)
        it keeps roots, children and descendants exactly the spans and depths of
        ``ordered``, with no loop."""
        children: dict[int, list[SpanData]] = {}
        path: list[SpanData] = []  # the current span's ancestors, root first
        for entry in ordered:
            del path[entry.depth :]
            if path:
                children.setdefault(path[-1].span_id, []).append(entry.span)
            path.append(entry.span)
        return cls(ordered, {e.span.span_id: e.depth for e in ordered}, children)

    def roots(self) -> list[SpanData]:
        return [entry.span for entry in self.ordered if entry.depth == 0]

    def descendants(self, span_id: int, max_depth: int) -> list[TreeSpan]:
        """The subtree under ``span_id`` down to ``max_depth`` levels, in tree order,
        with depths relative to ``span_id``."""
        found: list[TreeSpan] = []
        stack = [(child, 1) for child in reversed(self.children.get(span_id, []))]
        while stack:
            span, depth = stack.pop()
            found.append(TreeSpan(span, depth))
            if depth < max_depth:
                stack.extend((c, depth + 1) for c in reversed(self.children.get(span.span_id, [])))
        return found


Result = TraceTree


class TraceTreeLoader(DataLoader[Key, Result]):
    def __init__(self, spans: SpansByTraceLoader) -> None:
        super().__init__(load_fn=self._load)
        self._spans = spans

    async def _load(self, keys: list[Key]) -> list[Result]:
        span_lists = await self._spans.load_many(keys)
        return [TraceTree.of(tree_order(spans)) for spans in span_lists]
