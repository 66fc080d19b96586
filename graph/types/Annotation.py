from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from access.permissions import Permission
from agenttrace.errors import NotFound
from graph.context import Info
from graph.ids import parse_scoped_node_id, scoped_node_id
from graph.nodes import load_nodes
from graph.types.AnnotationSource import AnnotationSource
from resolvers.annotations import AnnotationData

if TYPE_CHECKING:
    from graph.types.Span import Span
    from graph.types.Trace import Trace


@strawberry.type(
    description="A score, label or comment on a trace or a span, by a person, code or an LLM."
)
class Annotation(relay.Node):
    data: strawberry.Private[AnnotationData]

    @classmethod
    def resolve_id(cls, root: Annotation, *, info: Info) -> str:
        return scoped_node_id(root.data.key)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Annotation | None]:
        return await load_nodes(
            info,
            [parse_scoped_node_id(node_id, "annotation") for node_id in node_ids],
            project_of=lambda k: k[0],
            permission=Permission.READ_TRACES,
            loader=info.context.loaders.annotation_by_id,
            wrap=lambda data: Annotation(data=data),
            required=required,
            what="annotation",
        )

    @strawberry.field(description="What is judged, e.g. 'correctness'.")
    def name(self) -> str:
        return self.data.name

    @strawberry.field
    def score(self) -> float | None:
        return self.data.score

    @strawberry.field(description="A categorical value, e.g. 'hallucinated'.")
    def label(self) -> str | None:
        return self.data.label

    @strawberry.field
    def comment(self) -> str | None:
        return self.data.comment

    @strawberry.field
    def source(self) -> AnnotationSource:  # type: ignore[valid-type]
        return AnnotationSource(self.data.source)

    @strawberry.field
    def created_at(self) -> datetime:
        return self.data.created_at

    @strawberry.field
    def updated_at(self) -> datetime:
        return self.data.updated_at

    @strawberry.field(description="The annotated trace, or the trace of the annotated span.")
    async def trace(self, info: Info) -> Annotated[Trace, strawberry.lazy("graph.types.Trace")]:
        from graph.types.Trace import Trace

        found = await info.context.loaders.trace_by_id.load(self.data.trace_key)
        if found is None:  # deleting a trace deletes its annotations (foreign key cascade)
            raise NotFound("the annotation's trace is gone")
        return Trace(data=found)

    @strawberry.field(description="The annotated span; null for an annotation on a trace.")
    async def span(self, info: Info) -> Annotated[Span, strawberry.lazy("graph.types.Span")] | None:
        from graph.types.Span import Span

        if self.data.span_id is None:
            return None
        key = (self.data.project_id, self.data.trace_id, self.data.span_id)
        found = await info.context.loaders.span_by_id.load(key)
        return Span.of(found) if found is not None else None


def annotation_list(annotations: Iterable[AnnotationData]) -> list[Annotation]:
    return [Annotation(data=a) for a in annotations]
