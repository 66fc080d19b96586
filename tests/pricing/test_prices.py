"""Which price applies to a model at a moment, and what a call costs at it."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from pricing.cost import TokenUsage, cost_of, token_usage
from pricing.price_table import (
    InvalidPrice,
    ModelPrice,
    bundled_prices,
)

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def test_the_bundled_table_prices_the_common_models_of_every_provider() -> None:
    table = bundled_prices()
    for model, provider in [
        ("gpt-4o", "openai"),
        ("gpt-4o-mini-2024-07-18", "openai"),
        ("claude-3-5-sonnet-20241022", "anthropic"),
        ("claude-sonnet-4-5-20250929", "anthropic"),
        ("gemini-2.5-flash", "google"),
        ("models/gemini-1.5-pro-002", "google"),
        ("openai/gpt-4.1-mini", "openai"),
    ]:
        price = table.lookup(model, NOW)
        assert price is not None, model
        assert price.provider == provider


def test_a_dated_snapshot_does_not_match_a_longer_models_price() -> None:
    table = bundled_prices()
    mini = table.lookup("gpt-4o-mini-2024-07-18", NOW)
    full = table.lookup("gpt-4o-2024-08-06", NOW)
    assert mini is not None
    assert full is not None
    assert (mini.model, full.model) == ("gpt-4o-mini", "gpt-4o")
    assert table.lookup("gpt-4o-mini-turbo-ultra", NOW) is None


def test_the_price_in_force_on_the_calls_day_applies() -> None:
    table = bundled_prices()
    before_cut = table.lookup("o3", datetime(2025, 5, 1, tzinfo=UTC))
    after_cut = table.lookup("o3-2025-04-16", datetime(2025, 7, 1, tzinfo=UTC))
    assert before_cut is not None
    assert after_cut is not None
    assert (before_cut.input, after_cut.input) == (10.0, 2.0)
    # Before the first entry's date the first entry applies: there was no other price.
    earliest = table.lookup("gpt-4o", datetime(2020, 1, 1, tzinfo=UTC))
    assert earliest is not None
    assert earliest.input == 5.0


def test_an_unknown_model_has_no_price() -> None:
    assert bundled_prices().lookup("my-finetune-v3", NOW) is None


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"input": -1.0}, "input must be a number"),
        ({"output": float("nan")}, "output must be a number"),
        ({"pattern": "gpt-(4"}, "pattern is not a regular expression"),
        ({"model": " "}, "model must be a non-empty name"),
    ],
)
def test_a_bad_entry_is_refused_naming_the_field(fields: dict[str, object], problem: str) -> None:
    entry: dict[str, object] = {"model": "m", "input": 1.0, "output": 1.0}
    entry |= fields
    with pytest.raises(InvalidPrice, match=problem):
        ModelPrice(effective_from=date(2026, 1, 1), **entry)  # type: ignore[arg-type]


def test_openai_cached_and_reasoning_tokens_are_inside_the_counts() -> None:
    usage = token_usage(
        1000, 500, {"llm.usage.cached_tokens": 400, "llm.usage.reasoning_tokens": 200}
    )
    assert usage == TokenUsage(uncached_input=600, cache_read=400, output=300, reasoning=200)
    price = ModelPrice(
        model="o-test", input=2.0, output=8.0, cached_input=0.5, effective_from=date(2025, 1, 1)
    )
    # 600 x 2 + 400 x 0.5 + 300 x 8 + 200 x 8 (reasoning at the output price), per 1M.
    assert cost_of(price, usage) == pytest.approx((1200 + 200 + 2400 + 1600) / 1e6)


def test_anthropic_cache_tokens_are_beside_the_input_count() -> None:
    usage = token_usage(
        100,
        50,
        {"llm.usage.cache_read_input_tokens": 1000, "llm.usage.cache_creation_input_tokens": 10},
    )
    assert usage == TokenUsage(uncached_input=100, cache_read=1000, cache_write=10, output=50)
    price = bundled_prices().lookup("claude-3-5-sonnet-20241022", NOW)
    assert price is not None
    expected = (100 * 3.0 + 1000 * 0.3 + 10 * 3.75 + 50 * 15.0) / 1e6
    assert cost_of(price, usage) == pytest.approx(expected)


def test_counts_that_disagree_never_make_a_negative_cost() -> None:
    usage = token_usage(10, 5, {"llm.usage.cached_tokens": 50, "llm.usage.reasoning_tokens": 9})
    assert usage == TokenUsage(uncached_input=0, cache_read=10, output=0, reasoning=5)
    assert not token_usage(None, None, {}).any
