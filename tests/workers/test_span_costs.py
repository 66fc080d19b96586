"""The storage worker prices model calls that arrive with tokens but no cost."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from pricing.price_table import ModelPrice, PriceTable
from workers.span_costs import priced
from workers.span_rows import SpanRow, merge, to_row

PROJECT = uuid.uuid4()
START_NS = int(datetime(2026, 6, 1, tzinfo=UTC).timestamp()) * 1_000_000_000
NO_OWN_PRICES = PriceTable([])


def _row(kind: str, model: str | None, **fields: object) -> SpanRow:
    record = {
        "trace_id": "0af7651916cd43dd8448eb211c80319c",
        "span_id": "b7ad6b7169203331",
        "name": "call",
        "kind": kind,
        "model": model,
        "start_time_unix_nano": START_NS,
        "end_time_unix_nano": START_NS + 1_000_000,
        "input_tokens": 1000,
        "output_tokens": 200,
    } | fields
    return to_row(PROJECT, record)


def test_an_openai_and_an_anthropic_call_are_priced_from_the_bundled_table() -> None:
    openai = priced(_row("LLM", "gpt-4o-2024-08-06"), NO_OWN_PRICES)
    anthropic = priced(_row("LLM", "claude-3-5-haiku-20241022"), NO_OWN_PRICES)
    assert openai.cost == pytest.approx((1000 * 2.5 + 200 * 10.0) / 1e6)
    assert anthropic.cost == pytest.approx((1000 * 0.8 + 200 * 4.0) / 1e6)
    assert openai.cost_source == anthropic.cost_source == "BUNDLED_PRICE"


def test_a_cost_the_client_sent_is_kept() -> None:
    row = priced(_row("LLM", "gpt-4o", cost=0.5), NO_OWN_PRICES)
    assert (row.cost, row.cost_source) == (0.5, "CLIENT")


def test_only_model_calls_are_priced() -> None:
    agent = priced(_row("AGENT", "gpt-4o"), NO_OWN_PRICES)
    assert (agent.cost, agent.cost_source) == (None, None)
    embedding = priced(
        _row("EMBEDDING", "text-embedding-3-small", output_tokens=None), NO_OWN_PRICES
    )
    assert embedding.cost == pytest.approx(1000 * 0.02 / 1e6)


def test_an_unknown_model_is_marked_and_not_priced_at_zero() -> None:
    for model in ("my-finetune-v3", None):
        row = priced(_row("LLM", model), NO_OWN_PRICES)
        assert (row.cost, row.cost_source) == (None, "UNKNOWN_MODEL")


def test_a_call_without_tokens_is_left_alone() -> None:
    row = priced(_row("LLM", "gpt-4o", input_tokens=None, output_tokens=None), NO_OWN_PRICES)
    assert (row.cost, row.cost_source) == (None, None)


def test_the_projects_own_price_comes_first() -> None:
    own = PriceTable(
        [ModelPrice(model="gpt-4o", input=1.0, output=1.0, effective_from=date(2026, 1, 1))]
    )
    row = priced(_row("LLM", "gpt-4o"), own)
    assert row.cost == pytest.approx(1200 / 1e6)
    assert row.cost_source == "PROJECT_PRICE"
    later = replace(_row("LLM", "my-finetune-v3"), cost=None)
    assert priced(later, own).cost_source == "UNKNOWN_MODEL"


def test_merging_keeps_a_price_unknown_mark_in_either_order() -> None:
    unknown = priced(_row("LLM", "mystery-model"), NO_OWN_PRICES)
    plain = _row("LLM", "mystery-model", input_tokens=None, output_tokens=None)
    assert merge(unknown, plain).cost_source == "UNKNOWN_MODEL"
    assert merge(plain, unknown).cost_source == "UNKNOWN_MODEL"


def test_a_client_cost_wins_over_a_computed_one_in_either_order() -> None:
    computed = priced(_row("LLM", "gpt-4o"), NO_OWN_PRICES)
    client = _row("LLM", "gpt-4o", cost=0.5)
    for merged in (merge(computed, client), merge(client, computed)):
        assert (merged.cost, merged.cost_source) == (0.5, "CLIENT")
