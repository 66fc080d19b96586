from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from access.permissions import Permission
from agenttrace.errors import InvalidArgument, NotFound
from graph.context import Info
from graph.ids import parse_span_node_id, span_node_id
from graph.nodes import load_nodes
from graph.types.SpanKind import SpanKind
from graph.types.SpanStatus import SpanStatus
from resolvers.records import SpanData
from storage.otel_ids import span_id_to_hex, trace_id_to_hex

if TYPE_CHECKING:
    from graph.types.Annotation import Annotation
    from graph.types.Trace import Trace

MAX_DESCENDANT_DEPTH = 20


@strawberry.type(description="One operation in a trace: an LLM call, a tool, an agent step.")
class Span(relay.Node):
    data: strawberry.Private[SpanData]

    @classmethod
    def resolve_id(cls, root: Span, *, info: Info) -> str:
        return span_node_id(root.data.key)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Span | None]:
        return await load_nodes(
            info,
            [parse_span_node_id(node_id) for node_id in node_ids],
            project_of=lambda k: k[0],
            permission=Permission.READ_TRACES,
            loader=info.context.loaders.span_by_id,
            wrap=lambda data: Span(data=data),
            required=required,
            what="span",
        )

    @strawberry.field(description="The OpenTelemetry span id, 16 hex digits.")
    def span_id(self) -> str:
        return span_id_to_hex(self.data.span_id)

    @strawberry.field(description="The OpenTelemetry trace id, 32 hex digits.")
    def trace_id(self) -> str:
        return trace_id_to_hex(self.data.trace_id)

    @strawberry.field
    def parent_span_id(self) -> str | None:
        parent = self.data.parent_span_id
        return span_id_to_hex(parent) if parent is not None else None

    @strawberry.field
    def name(self) -> str:
        return self.data.name

    @strawberry.field
    def kind(self) -> SpanKind:
        return SpanKind(self.data.kind)

    @strawberry.field
    def status(self) -> SpanStatus:
        return SpanStatus(self.data.status)

    @strawberry.field
    def status_message(self) -> str | None:
        return self.data.status_message

    @strawberry.field
    def start_time(self) -> datetime:
        return self.data.start_time

    @strawberry.field(description="Null while the span is still running.")
    def end_time(self) -> datetime | None:
        return self.data.end_time

    @strawberry.field
    def duration_ms(self) -> float | None:
        return self.data.duration_ms

    @strawberry.field
    def model(self) -> str | None:
        return self.data.model

    @strawberry.field
    def input_tokens(self) -> int | None:
        return self.data.input_tokens

    @strawberry.field
    def output_tokens(self) -> int | None:
        return self.data.output_tokens

    @strawberry.field
    def total_tokens(self) -> int | None:
        return self.data.total_tokens

    @strawberry.field
    def cost(self) -> float | None:
        return self.data.cost

    @strawberry.field(description="The input (for an LLM span, usually its messages).")
    def input(self) -> JSON | None:
        return self.data.input  # type: ignore[no-any-return]

    @strawberry.field
    def output(self) -> JSON | None:
        return self.data.output  # type: ignore[no-any-return]

    @strawberry.field(description="Every attribute the span was sent with.")
    def attributes(self) -> JSON:
        return self.data.attributes  # type: ignore[return-value]

    @strawberry.field
    def resource(self) -> JSON:
        return self.data.resource  # type: ignore[return-value]

    @strawberry.field
    def events(self) -> JSON:
        return self.data.events  # type: ignore[return-value]

    @strawberry.field(description="Exception type, message and stack, when the span failed.")
    def error(self) -> JSON | None:
        return self.data.error  # type: ignore[return-value]

    @strawberry.field
    def tags(self) -> list[str]:
        return self.data.tags

    @strawberry.field
    def metadata(self) -> JSON:
        return self.data.metadata  # type: ignore[return-value]

    @strawberry.field
    def user_id(self) -> str | None:
        return self.data.user_id

    @strawberry.field
    def session_id(self) -> str | None:
        return self.data.session_id

    @strawberry.field
    def environment(self) -> str | None:
        return self.data.environment

    @strawberry.field(description="Depth in the trace's tree; roots are 0.")
    async def depth(self, info: Info) -> int:
        tree = await info.context.loaders.trace_tree.load(self.data.trace_key)
        return tree.depth.get(self.data.span_id, 0)

    @strawberry.field
    async def parent(self, info: Info) -> Span | None:
        parent = self.data.parent_span_id
        if parent is None:
            return None
        key = (self.data.project_id, self.data.trace_id, parent)
        found = await info.context.loaders.span_by_id.load(key)
        return Span(data=found) if found is not None else None

    @strawberry.field(description="Direct children, by start time.")
    async def children(self, info: Info) -> list[Span]:
        found = await info.context.loaders.children_by_span.load(self.data.key)
        return [Span(data=child) for child in found]

    @strawberry.field(description="Everything below this span, in tree order, down to max_depth.")
    async def descendants(self, info: Info, max_depth: int = 3) -> list[Span]:
        if not 1 <= max_depth <= MAX_DESCENDANT_DEPTH:
            raise InvalidArgument(f"maxDepth must be between 1 and {MAX_DESCENDANT_DEPTH}")
        tree = await info.context.loaders.trace_tree.load(self.data.trace_key)
        return [Span(data=e.span) for e in tree.descendants(self.data.span_id, max_depth)]

    @strawberry.field(description="Annotations on this span, oldest first.")
    async def annotations(
        self, info: Info
    ) -> list[Annotated[Annotation, strawberry.lazy("graph.types.Annotation")]]:
        from graph.types.Annotation import annotation_list

        return annotation_list(await info.context.loaders.annotations_by_span.load(self.data.key))

    @strawberry.field
    async def trace(self, info: Info) -> Annotated[Trace, strawberry.lazy("graph.types.Trace")]:
        from graph.types.Trace import Trace

        found = await info.context.loaders.trace_by_id.load(self.data.trace_key)
        if found is None:  # spans are stored with their trace in one transaction
            raise NotFound("the span's trace is gone")
        return Trace(data=found)


def span_list(spans: Iterable[SpanData]) -> list[Span]:
    return [Span(data=s) for s in spans]
