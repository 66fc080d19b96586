from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import relay

from access.permissions import Permission
from graph.context import Info
from graph.ids import parse_trace_id, parse_uuid
from graph.nodes import load_nodes
from graph.permissions import CanManageKeys
from graph.types.Analytics import Analytics
from graph.types.ApiKey import ApiKey
from graph.types.Connection import Connection, connection_of
from graph.types.MaskingRule import MaskingRule
from graph.types.ModelPrice import ModelPrice
from graph.types.SortInput import SortInput, sort_of
from graph.types.Span import Span
from graph.types.SpanFilter import SpanFilter, span_conditions_of
from graph.types.TimeBucket import TimeBucket
from graph.types.TimeRangeInput import TimeRangeInput
from graph.types.Trace import Trace
from graph.types.TraceFilter import TraceFilter, conditions_of
from graph.types.TraceGroup import TraceGroup
from masking.rules import stored_rules
from resolvers.analytics import Scope
from resolvers.projects import MAX_GROUPS, ProjectData, trace_groups
from resolvers.spans import list_spans
from resolvers.traces import list_traces


@strawberry.type(description="A project: the traces of one application or team.")
class Project(relay.Node):
    data: strawberry.Private[ProjectData]

    @classmethod
    def resolve_id(cls, root: Project, *, info: Info) -> str:
        return str(root.data.id)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Project | None]:
        return await load_nodes(
            info,
            [parse_uuid(node_id, "project") for node_id in node_ids],
            project_of=lambda k: k,
            permission=Permission.READ_TRACES,
            loader=info.context.loaders.project_by_id,
            wrap=lambda data: Project(data=data),
            required=required,
            what="project",
        )

    @strawberry.field
    def name(self) -> str:
        return self.data.name

    @strawberry.field
    def created_at(self) -> datetime:
        return self.data.created_at

    @strawberry.field(
        description="What you may do in this project (e.g. 'manage_keys'), sorted: your"
        " role's permissions for a person, the key's scopes' for an API key."
    )
    async def viewer_permissions(self, info: Info) -> list[str]:
        viewer = await info.context.viewer()
        return sorted(viewer.projects.get(self.data.id, frozenset()))

    @strawberry.field(
        permission_classes=[CanManageKeys],
        description="The project's API keys, newest first, revoked ones included (no secrets).",
    )
    async def api_keys(self, info: Info) -> list[ApiKey]:
        await info.context.project_for(self.data.id, Permission.MANAGE_KEYS)
        found = await info.context.loaders.api_keys_by_project.load(self.data.id)
        return [ApiKey(data=k) for k in found]

    @strawberry.field(
        description="The project's own model prices, which the storage worker uses before"
        " the bundled table (docs/data.md); set with setModelPrice."
    )
    async def model_prices(self, info: Info) -> list[ModelPrice]:
        found = await info.context.loaders.model_prices_by_project.load(self.data.id)
        return [ModelPrice.of(entry) for entry in found]

    @strawberry.field(
        description="Masking rules the storage worker applies to every span before"
        " storing it; set with setMaskingRules."
    )
    def masking_rules(self) -> list[MaskingRule]:
        return [MaskingRule.of(rule) for rule in stored_rules(self.data.masking_rules)]

    @strawberry.field(
        description="Days the project keeps a trace (0: for ever); null: the server's"
        " default, AGENTTRACE_RETENTION_DAYS. Set with setProjectRetention."
    )
    def retention_days(self) -> int | None:
        return self.data.retention_days

    @strawberry.field
    async def trace_count(self, info: Info) -> int:
        return (await info.context.loaders.project_stats.load(self.data.id)).trace_count

    @strawberry.field
    async def span_count(self, info: Info) -> int:
        return (await info.context.loaders.project_stats.load(self.data.id)).span_count

    @strawberry.field(description="Traces with at least one failed span.")
    async def error_trace_count(self, info: Info) -> int:
        return (await info.context.loaders.project_stats.load(self.data.id)).error_trace_count

    @strawberry.field
    async def last_trace_at(self, info: Info) -> datetime | None:
        return (await info.context.loaders.project_stats.load(self.data.id)).last_trace_at

    @strawberry.field(description="The project's traces, filtered and sorted, a page at a time.")
    async def traces(
        self,
        info: Info,
        filter: TraceFilter | None = None,
        sort: SortInput | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Trace]:
        page = await list_traces(
            info.context.engine,
            self.data.id,
            conditions_of(filter),
            sort_of(sort),
            first=first,
            after=after,
        )
        return connection_of(page, lambda data: Trace(data=data))

    @strawberry.field(description="One trace by its 32-hex-digit OTel trace id.")
    async def trace(self, info: Info, trace_id: str) -> Trace | None:
        found = await info.context.loaders.trace_by_id.load(
            (self.data.id, parse_trace_id(trace_id))
        )
        return Trace(data=found) if found is not None else None

    @strawberry.field(description="The project's spans across traces, filtered and sorted.")
    async def spans(
        self,
        info: Info,
        filter: SpanFilter | None = None,
        sort: SortInput | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Span]:
        page = await list_spans(
            info.context.engine,
            self.data.id,
            span_conditions_of(filter),
            sort_of(sort),
            first=first,
            after=after,
        )
        return connection_of(page, Span.of)

    @strawberry.field(
        description=f"Sessions seen, most recently active first. limit: 1 to {MAX_GROUPS}."
    )
    async def sessions(
        self, info: Info, time_range: TimeRangeInput | None = None, limit: int = 50
    ) -> list[TraceGroup]:
        time = time_range.to_range() if time_range else None
        groups = await trace_groups(info.context.engine, self.data.id, "session_id", time, limit)
        return [TraceGroup(data=g) for g in groups]

    @strawberry.field(
        description=f"End users seen, most recently active first. limit: 1 to {MAX_GROUPS}."
    )
    async def users(
        self, info: Info, time_range: TimeRangeInput | None = None, limit: int = 50
    ) -> list[TraceGroup]:
        time = time_range.to_range() if time_range else None
        groups = await trace_groups(info.context.engine, self.data.id, "user_id", time, limit)
        return [TraceGroup(data=g) for g in groups]

    @strawberry.field(
        description="Counts, error rates, latency, tokens and cost over a time range (both"
        " bounds required), as a time series, totals and groups. With a filter, span measures"
        " count the matching spans in the range and trace measures the traces holding one."
    )
    def analytics(
        self,
        time_range: TimeRangeInput,
        bucket: TimeBucket = TimeBucket.HOUR,  # type: ignore[valid-type]
        filter: SpanFilter | None = None,
    ) -> Analytics:
        scope = Scope.of(self.data.id, time_range.to_range(), span_conditions_of(filter))
        return Analytics(scope=scope, bucket_width=bucket)
