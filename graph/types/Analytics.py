from __future__ import annotations

import strawberry

from graph.context import Info
from graph.types.AnalyticsBucket import AnalyticsBucket
from graph.types.AnalyticsGroup import AnalyticsGroup
from graph.types.AnalyticsGroupBy import AnalyticsGroupBy
from graph.types.AnalyticsTotals import AnalyticsTotals
from graph.types.Span import Span, span_list
from graph.types.TimeBucket import TimeBucket
from resolvers import analytics
from resolvers.analytics import Scope


@strawberry.type(
    description="A project's analytics over a time range, computed when asked: each field"
    " runs its own query, so a client pays only for the fields it selects."
)
class Analytics:
    scope: strawberry.Private[Scope]
    bucket_width: strawberry.Private[analytics.TimeBucket]

    @strawberry.field(description="The bucket width of the time series.")
    def bucket(self) -> TimeBucket:  # type: ignore[valid-type]
        return self.bucket_width

    @strawberry.field(
        description="The time series, oldest bucket first, empty buckets included. At most"
        f" {analytics.MAX_BUCKETS} buckets: a longer series is an INVALID_ARGUMENT error."
    )
    async def buckets(self, info: Info) -> list[AnalyticsBucket]:
        found = await analytics.time_series(info.context.engine, self.scope, self.bucket_width)
        return [AnalyticsBucket(data=b.measures, start=b.start, end=b.end) for b in found]

    @strawberry.field(description="The same measures over the whole time range.")
    async def totals(self, info: Info) -> AnalyticsTotals:
        return AnalyticsTotals(data=await analytics.totals(info.context.engine, self.scope))

    @strawberry.field(
        description="Spans grouped by model, kind or name, most spans first. Spans without a"
        f" model are left out of MODEL groups. limit: 1 to {analytics.MAX_LIMIT}."
    )
    async def groups(
        self,
        info: Info,
        by: AnalyticsGroupBy,  # type: ignore[valid-type]
        limit: int = 20,
    ) -> list[AnalyticsGroup]:
        found = await analytics.groups(info.context.engine, self.scope, by, limit)
        return [AnalyticsGroup(data=g) for g in found]

    @strawberry.field(
        description="The finished spans that took longest, longest first."
        f" limit: 1 to {analytics.MAX_LIMIT}."
    )
    async def slowest_spans(self, info: Info, limit: int = 10) -> list[Span]:
        return span_list(await analytics.slowest_spans(info.context.engine, self.scope, limit))

    @strawberry.field(
        description="The model calls (LLM and EMBEDDING spans) that cost most, costliest"
        f" first. limit: 1 to {analytics.MAX_LIMIT}."
    )
    async def costliest_spans(self, info: Info, limit: int = 10) -> list[Span]:
        return span_list(await analytics.costliest_spans(info.context.engine, self.scope, limit))
