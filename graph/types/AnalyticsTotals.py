from __future__ import annotations

import strawberry

from resolvers.analytics import Measures

TOKENS_NOTE = (
    " Model calls (LLM and EMBEDDING spans) only, as on traces. A Float: sums outgrow"
    " GraphQL's 32-bit Int, and a Float is exact to 2^53."
)


@strawberry.type(
    description="What the traces and spans of a time range add up to. Trace measures"
    " count the traces that started in the range; span measures the spans that did."
)
class AnalyticsTotals:
    data: strawberry.Private[Measures]

    @strawberry.field(description="Traces that started in the range (or bucket).")
    def trace_count(self) -> int:
        return self.data.trace_count

    @strawberry.field(description="Of those, traces with at least one failed span.")
    def error_trace_count(self) -> int:
        return self.data.error_trace_count

    @strawberry.field(description="errorTraceCount / traceCount; null without traces.")
    def trace_error_rate(self) -> float | None:
        return self.data.trace_error_rate

    @strawberry.field(
        description="Median end-to-end trace duration (first span start to last span end),"
        " ms, of the traces started here that have finished; null if none has."
    )
    def trace_latency_p50_ms(self) -> float | None:
        return self.data.trace_latency.p50

    @strawberry.field(description="95th percentile of the same trace durations, ms.")
    def trace_latency_p95_ms(self) -> float | None:
        return self.data.trace_latency.p95

    @strawberry.field(description="99th percentile of the same trace durations, ms.")
    def trace_latency_p99_ms(self) -> float | None:
        return self.data.trace_latency.p99

    @strawberry.field(description="Spans that started in the range (or bucket).")
    def span_count(self) -> int:
        return self.data.span_count

    @strawberry.field(description="Of those, spans with status ERROR.")
    def error_span_count(self) -> int:
        return self.data.error_span_count

    @strawberry.field(
        description="Error rate of spans: errorSpanCount / spanCount; null without spans."
        " (traceErrorRate is the rate of traces.)"
    )
    def error_rate(self) -> float | None:
        return self.data.error_rate

    @strawberry.field(description="Input (prompt) tokens." + TOKENS_NOTE)
    def input_tokens(self) -> float:
        return float(self.data.input_tokens)

    @strawberry.field(description="Output (completion) tokens." + TOKENS_NOTE)
    def output_tokens(self) -> float:
        return float(self.data.output_tokens)

    @strawberry.field(
        description="Total tokens (a span's own total, else input + output)." + TOKENS_NOTE
    )
    def total_tokens(self) -> float:
        return float(self.data.total_tokens)

    @strawberry.field(description="Cost of the model calls (LLM and EMBEDDING spans).")
    def cost(self) -> float:
        return self.data.cost
