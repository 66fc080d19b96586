from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from access.permissions import Permission
from agenttrace.errors import NotFound
from graph.context import Info
from graph.ids import parse_span_id, parse_trace_node_id, trace_node_id
from graph.nodes import load_nodes
from graph.types.Span import Span, span_list
from graph.types.SpanOutline import OUTLINE_DESCRIPTION, outline_of
from graph.types.SpanTreeNode import SpanTreeNode
from graph.types.TraceStatus import TraceStatus
from resolvers.records import TraceData
from storage.otel_ids import span_id_to_hex, trace_id_to_hex

if TYPE_CHECKING:
    from graph.types.Annotation import Annotation
    from graph.types.Project import Project


@strawberry.type(description="One run of an agent: a tree of spans with its aggregates.")
class Trace(relay.Node):
    data: strawberry.Private[TraceData]

    @classmethod
    def resolve_id(cls, root: Trace, *, info: Info) -> str:
        return trace_node_id(root.data.key)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Trace | None]:
        return await load_nodes(
            info,
            [parse_trace_node_id(node_id) for node_id in node_ids],
            project_of=lambda k: k[0],
            permission=Permission.READ_TRACES,
            loader=info.context.loaders.trace_by_id,
            wrap=lambda data: Trace(data=data),
            required=required,
            what="trace",
        )

    @strawberry.field(description="The OpenTelemetry trace id, 32 hex digits.")
    def trace_id(self) -> str:
        return trace_id_to_hex(self.data.trace_id)

    @strawberry.field(description="The root span's name.")
    def name(self) -> str:
        return self.data.name

    @strawberry.field
    def status(self) -> TraceStatus:
        return TraceStatus(self.data.status)

    @strawberry.field
    def start_time(self) -> datetime:
        return self.data.start_time

    @strawberry.field(description="Null while any span is still running.")
    def end_time(self) -> datetime | None:
        return self.data.end_time

    @strawberry.field
    def duration_ms(self) -> float | None:
        return self.data.duration_ms

    @strawberry.field
    def root_span_id(self) -> str | None:
        root = self.data.root_span_id
        return span_id_to_hex(root) if root is not None else None

    @strawberry.field
    def span_count(self) -> int:
        return self.data.span_count

    @strawberry.field
    def error_count(self) -> int:
        return self.data.error_count

    @strawberry.field(description="Summed over LLM and embedding spans only (no double counting).")
    def input_tokens(self) -> int:
        return self.data.input_tokens

    @strawberry.field
    def output_tokens(self) -> int:
        return self.data.output_tokens

    @strawberry.field
    def total_tokens(self) -> int:
        return self.data.total_tokens

    @strawberry.field
    def cost(self) -> float:
        return self.data.cost

    @strawberry.field
    def user_id(self) -> str | None:
        return self.data.user_id

    @strawberry.field
    def session_id(self) -> str | None:
        return self.data.session_id

    @strawberry.field
    def environment(self) -> str | None:
        return self.data.environment

    @strawberry.field
    def tags(self) -> list[str]:
        return self.data.tags

    @strawberry.field
    def metadata(self) -> JSON:
        return self.data.metadata  # type: ignore[return-value]

    @strawberry.field
    async def project(
        self, info: Info
    ) -> Annotated[Project, strawberry.lazy("graph.types.Project")]:
        from graph.types.Project import Project

        found = await info.context.loaders.project_by_id.load(self.data.project_id)
        if found is None:
            raise NotFound("the trace's project is gone")
        return Project(data=found)

    @strawberry.field(description="Spans without a (known) parent, by start time.")
    async def root_spans(self, info: Info) -> list[Span]:
        tree = await info.context.loaders.trace_tree.load(self.data.key)
        return span_list(tree.roots())

    @strawberry.field(
        description="Every span, flat, in tree order (depth first, children by start time);"
        " each span's `depth` says how far to indent it."
    )
    async def spans(self, info: Info) -> list[Span]:
        tree = await info.context.loaders.trace_tree.load(self.data.key)
        return [Span.of(entry.span, entry.depth) for entry in tree.ordered]

    @strawberry.field(description=OUTLINE_DESCRIPTION)
    async def span_outline(self, info: Info) -> JSON:
        tree = await info.context.loaders.trace_tree.load(self.data.key)
        return JSON(outline_of(tree.ordered))

    @strawberry.field(description="The root spans, each with its children, recursively.")
    async def span_tree(self, info: Info) -> list[SpanTreeNode]:
        tree = await info.context.loaders.trace_tree.load(self.data.key)
        return [SpanTreeNode(tree=tree, data=root) for root in tree.roots()]

    @strawberry.field(
        description="Annotations on the trace itself, oldest first (its spans' are on the spans)."
    )
    async def annotations(
        self, info: Info
    ) -> list[Annotated[Annotation, strawberry.lazy("graph.types.Annotation")]]:
        from graph.types.Annotation import annotation_list

        return annotation_list(await info.context.loaders.annotations_by_trace.load(self.data.key))

    @strawberry.field(description="One span of this trace by its 16-hex-digit id.")
    async def span(self, info: Info, span_id: str) -> Span | None:
        key = (self.data.project_id, self.data.trace_id, parse_span_id(span_id))
        found = await info.context.loaders.span_by_id.load(key)
        return Span.of(found) if found is not None else None
