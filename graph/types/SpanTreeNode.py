from __future__ import annotations

import strawberry

from graph.types.Span import Span
from loaders.trace_tree import TraceTree
from resolvers.records import SpanData


@strawberry.type(description="A span with its children: the trace as a tree.")
class SpanTreeNode:
    tree: strawberry.Private[TraceTree]
    data: strawberry.Private[SpanData]

    @strawberry.field
    def span(self) -> Span:
        return Span.of(self.data)

    @strawberry.field
    def children(self) -> list[SpanTreeNode]:
        return [
            SpanTreeNode(tree=self.tree, data=c)
            for c in self.tree.children.get(self.data.span_id, [])
        ]
