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
from graph.types.CostSource import CostSource
from graph.types.SpanKind import SpanKind
from graph.types.SpanStatus import SpanStatus
from resolvers.records import SpanData
from storage.otel_ids import span_id_to_hex, trace_id_to_hex

if TYPE_CHECKING:
    from graph.types.Annotation import Annotation
    from graph.types.Trace import Trace

MAX_DESCENDANT_DEPTH = 20


def _json(value: object) -> JSON | None:
    return None if value is None else JSON(value)


@strawberry.type(description="One operation in a trace: an LLM call, a tool, an agent step.")
class Span(relay.Node):
    # The small fields are plain fields filled once by Span.of: a trace view asks for a
    # dozen fields of thousands of spans, and a resolver method per field costs more than
    # the query itself. The payloads (input, output, attributes, ...) are resolvers: a
    # trace's spans are read in outline, and only a client that asks gets them loaded.
    data: strawberry.Private[SpanData]
    tree_depth: strawberry.Private[int | None]
    span_id: str = strawberry.field(description="The OpenTelemetry span id, 16 hex digits.")
    trace_id: str = strawberry.field(description="The OpenTelemetry trace id, 32 hex digits.")
    parent_span_id: str | None
    name: str
    kind: SpanKind
    status: SpanStatus
    status_message: str | None
    start_time: datetime
    end_time: datetime | None = strawberry.field(
        description="Null while the span is still running."
    )
    duration_ms: float | None
    model: str | None
    input_tokens: int | None
    output_tokens: int | None
    total_tokens: int | None
    cost: float | None
    cost_source: CostSource | None = strawberry.field(
        description="Where `cost` came from; UNKNOWN_MODEL: a model call whose price is"
        " unknown (its cost is null, not 0). Null for spans that are not model calls."
    )
    tokens_estimated: bool = strawberry.field(
        description="True when the server estimated the token counts of a model call"
        " that reported none (a stream without usage), with a tokenizer."
    )
    tags: list[str]
    user_id: str | None
    session_id: str | None
    environment: str | None

    @classmethod
    def of(cls, data: SpanData, depth: int | None = None) -> Span:
        """The span; ``depth`` when the caller already knows it (from the trace's tree)."""
        parent = data.parent_span_id
        return cls(
            data=data,
            tree_depth=depth,
            span_id=span_id_to_hex(data.span_id),
            trace_id=trace_id_to_hex(data.trace_id),
            parent_span_id=span_id_to_hex(parent) if parent is not None else None,
            name=data.name,
            kind=SpanKind(data.kind),
            status=SpanStatus(data.status),
            status_message=data.status_message,
            start_time=data.start_time,
            end_time=data.end_time,
            duration_ms=data.duration_ms,
            model=data.model,
            input_tokens=data.input_tokens,
            output_tokens=data.output_tokens,
            total_tokens=data.total_tokens,
            cost=data.cost,
            cost_source=None if data.cost_source is None else CostSource(data.cost_source),
            tokens_estimated=bool(data.tokens_estimated),
            tags=data.tags,
            user_id=data.user_id,
            session_id=data.session_id,
            environment=data.environment,
        )

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
            wrap=Span.of,
            required=required,
            what="span",
        )

    async def _payload(self, info: Info) -> SpanData:
        """The span with its payload columns, loaded (batched) if this is an outline."""
        if self.data.has_payload:
            return self.data
        found = await info.context.loaders.span_by_id.load(self.data.key)
        return found if found is not None else self.data

    @strawberry.field(description="The input (for an LLM span, usually its messages).")
    async def input(self, info: Info) -> JSON | None:
        return _json((await self._payload(info)).input)

    @strawberry.field
    async def output(self, info: Info) -> JSON | None:
        return _json((await self._payload(info)).output)

    @strawberry.field(description="Every attribute the span was sent with.")
    async def attributes(self, info: Info) -> JSON:
        return JSON((await self._payload(info)).attributes)

    @strawberry.field
    async def resource(self, info: Info) -> JSON:
        return JSON((await self._payload(info)).resource)

    @strawberry.field
    async def events(self, info: Info) -> JSON:
        return JSON((await self._payload(info)).events)

    @strawberry.field(description="Exception type, message and stack, when the span failed.")
    async def error(self, info: Info) -> JSON | None:
        return _json((await self._payload(info)).error)

    @strawberry.field
    async def metadata(self, info: Info) -> JSON:
        return JSON((await self._payload(info)).metadata)

    @strawberry.field(description="Depth in the trace's tree; roots are 0.")
    def depth(self, info: Info) -> int:
        # Not async when the depth is known (a trace's span list): graphql-core makes a
        # task of every list item with an awaitable field, and those tasks cost a trace
        # view more than all its other fields. It awaits what this returns otherwise.
        if self.tree_depth is not None:
            return self.tree_depth
        return self._depth_in_tree(info)  # type: ignore[return-value]

    async def _depth_in_tree(self, info: Info) -> int:
        tree = await info.context.loaders.trace_tree.load(self.data.trace_key)
        return tree.depth.get(self.data.span_id, 0)

    @strawberry.field
    async def parent(self, info: Info) -> Span | None:
        parent = self.data.parent_span_id
        if parent is None:
            return None
        key = (self.data.project_id, self.data.trace_id, parent)
        found = await info.context.loaders.span_by_id.load(key)
        return Span.of(found) if found is not None else None

    @strawberry.field(description="Direct children, by start time.")
    async def children(self, info: Info) -> list[Span]:
        found = await info.context.loaders.children_by_span.load(self.data.key)
        return [Span.of(child) for child in found]

    @strawberry.field(description="Everything below this span, in tree order, down to max_depth.")
    async def descendants(self, info: Info, max_depth: int = 3) -> list[Span]:
        if not 1 <= max_depth <= MAX_DESCENDANT_DEPTH:
            raise InvalidArgument(f"maxDepth must be between 1 and {MAX_DESCENDANT_DEPTH}")
        tree = await info.context.loaders.trace_tree.load(self.data.trace_key)
        depth = tree.depth.get(self.data.span_id, 0)
        return [
            Span.of(e.span, depth + e.depth) for e in tree.descendants(self.data.span_id, max_depth)
        ]

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
    return [Span.of(s) for s in spans]
