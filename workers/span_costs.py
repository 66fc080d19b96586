"""Prices the model calls of a batch before it is stored.

A model call (an LLM or EMBEDDING span: the leaves that spend tokens, never the agents
and chains above them, so a trace's cost is never counted twice) that arrives with token
counts but no cost gets one: its project's own price for the model if it has one, else
the bundled table's, in force on the span's start day. A cost the client sent is kept as
it is. A model call whose model no table knows keeps no cost and is marked
``UNKNOWN_MODEL``, so the dashboard can say "price unknown" rather than show $0.
"""

from __future__ import annotations

from dataclasses import replace

from pricing.cost import cost_of, token_usage
from pricing.price_table import PriceTable, bundled_prices
from pricing.token_estimates import estimate_tokens
from workers.span_rows import SpanRow

MODEL_CALL_KINDS = frozenset({"LLM", "EMBEDDING"})

CLIENT = "CLIENT"
PROJECT_PRICE = "PROJECT_PRICE"
BUNDLED_PRICE = "BUNDLED_PRICE"
UNKNOWN_MODEL = "UNKNOWN_MODEL"


def with_estimated_tokens(row: SpanRow) -> SpanRow:
    """A finished model call that reported no token counts at all (a stream without
    usage), with counts estimated from its messages and marked so; other rows as they
    are. Only finished calls: an open span's later end may still bring real counts."""
    if row.kind not in MODEL_CALL_KINDS or row.end_time is None:
        return row
    if (row.input_tokens, row.output_tokens, row.total_tokens) != (None, None, None):
        return row
    if row.input is None and row.output is None:
        return row
    input_tokens = estimate_tokens(row.input)
    # An embedding's output is its vector, not text the model wrote.
    output_tokens = estimate_tokens(row.output) if row.kind == "LLM" else 0
    return replace(
        row,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        total_tokens=input_tokens + output_tokens,
        tokens_estimated=True,
    )


def _needs_price(row: SpanRow) -> bool:
    return row.cost is None and row.kind in MODEL_CALL_KINDS


def priced(row: SpanRow, own: PriceTable) -> SpanRow:
    """``row`` with its cost and cost source; unchanged when it is not a model call
    without a cost, or it carries no tokens to price."""
    if not _needs_price(row):
        return row
    usage = token_usage(row.input_tokens, row.output_tokens, row.attributes)
    if not usage.any:
        return row
    if row.model:
        price = own.lookup(row.model, row.start_time)
        source = PROJECT_PRICE
        if price is None:
            price, source = bundled_prices().lookup(row.model, row.start_time), BUNDLED_PRICE
        if price is not None:
            return replace(row, cost=cost_of(price, usage), cost_source=source)
    return replace(row, cost_source=UNKNOWN_MODEL)
