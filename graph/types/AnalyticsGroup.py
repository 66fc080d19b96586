from __future__ import annotations

import strawberry

from graph.types.AnalyticsTotals import TOKENS_NOTE
from resolvers.analytics import Group


@strawberry.type(description="The spans of a time range that share a model, kind or name.")
class AnalyticsGroup:
    data: strawberry.Private[Group]

    @strawberry.field(description="The model, span kind or span name.")
    def key(self) -> str:
        return self.data.key

    @strawberry.field
    def span_count(self) -> int:
        return self.data.span_count

    @strawberry.field(description="Spans with status ERROR.")
    def error_count(self) -> int:
        return self.data.error_count

    @strawberry.field(description="errorCount / spanCount.")
    def error_rate(self) -> float | None:
        return self.data.error_rate

    @strawberry.field(
        description="Median span duration, ms, of the group's finished spans; null if none."
    )
    def span_latency_p50_ms(self) -> float | None:
        return self.data.latency.p50

    @strawberry.field(description="95th percentile of the same span durations, ms.")
    def span_latency_p95_ms(self) -> float | None:
        return self.data.latency.p95

    @strawberry.field(description="99th percentile of the same span durations, ms.")
    def span_latency_p99_ms(self) -> float | None:
        return self.data.latency.p99

    @strawberry.field(description="Input (prompt) tokens." + TOKENS_NOTE)
    def input_tokens(self) -> float:
        return float(self.data.input_tokens)

    @strawberry.field(description="Output (completion) tokens." + TOKENS_NOTE)
    def output_tokens(self) -> float:
        return float(self.data.output_tokens)

    @strawberry.field(description="Total tokens." + TOKENS_NOTE)
    def total_tokens(self) -> float:
        return float(self.data.total_tokens)

    @strawberry.field(description="Cost of the group's model calls (LLM and EMBEDDING spans).")
    def cost(self) -> float:
        return self.data.cost
