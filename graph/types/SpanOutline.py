"""A trace's spans in outline as one JSON value: what a tree view or waterfall of a large
trace draws. ``Trace.spans`` with a dozen fields costs graphql-core a value completion per
field per span (on 10,000 spans, most of the request's time); this is one value."""

from __future__ import annotations

from typing import Any

from resolvers.tree import TreeSpan
from storage.otel_ids import span_id_to_hex

OUTLINE_COLUMNS = (
    "spanId",
    "parentSpanId",
    "depth",
    "name",
    "kind",
    "status",
    "startTime",
    "endTime",
    "durationMs",
    "model",
    "totalTokens",
    "cost",
    "costSource",
)

OUTLINE_DESCRIPTION = (
    "Every span in outline, in the order of `spans` (tree order), as one JSON value:"
    ' {"columns": ["spanId", "parentSpanId", "depth", "name", "kind", "status",'
    ' "startTime", "endTime", "durationMs", "model", "totalTokens", "cost", "costSource"],'
    ' "rows":'
    " [[...], ...]}, each row a span's values in the order of `columns`, as the Span"
    " fields of the same names give them (times in ISO 8601, null while running). For"
    " large traces: one value instead of a dozen fields per span."
)


def outline_of(ordered: list[TreeSpan]) -> dict[str, Any]:
    rows = []
    for entry in ordered:
        span = entry.span
        parent = span.parent_span_id
        end = span.end_time
        rows.append(
            [
                span_id_to_hex(span.span_id),
                None if parent is None else span_id_to_hex(parent),
                entry.depth,
                span.name,
                span.kind,
                span.status,
                span.start_time.isoformat(),
                None if end is None else end.isoformat(),
                span.duration_ms,
                span.model,
                span.total_tokens,
                span.cost,
                span.cost_source,
            ]
        )
    return {"columns": list(OUTLINE_COLUMNS), "rows": rows}
