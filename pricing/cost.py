"""The cost of one LLM call: its token usage priced by a ``ModelPrice``.

Providers count cached prompt tokens two ways, and the attribute that carried the count
says which:

- *inside* the prompt count: OpenAI's ``prompt_tokens_details.cached_tokens`` (our SDK's
  ``llm.usage.cached_tokens``) and OpenInference's ``llm.token_count.prompt_details.*``;
- *beside* it: Anthropic's ``cache_read_input_tokens`` / ``cache_creation_input_tokens``
  (our SDK's ``llm.usage.cache_*``, OpenLLMetry's ``gen_ai.usage.cache_*``), where
  ``input_tokens`` counts only the uncached rest.

Reasoning tokens are always inside the output count (OpenAI's
``completion_tokens_details.reasoning_tokens``), priced as output unless the entry gives
reasoning a price of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pricing.price_table import PER_TOKENS, ModelPrice

_CACHE_READ_INSIDE = ("llm.usage.cached_tokens", "llm.token_count.prompt_details.cache_read")
_CACHE_WRITE_INSIDE = ("llm.token_count.prompt_details.cache_write",)
_CACHE_READ_BESIDE = ("llm.usage.cache_read_input_tokens", "gen_ai.usage.cache_read_input_tokens")
_CACHE_WRITE_BESIDE = (
    "llm.usage.cache_creation_input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
)
_REASONING = (
    "llm.usage.reasoning_tokens",
    "llm.token_count.completion_details.reasoning",
    "gen_ai.usage.reasoning_tokens",
)


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """Tokens of one call, split the way they are billed. Every count is 0 or more."""

    uncached_input: int = 0
    cache_read: int = 0
    cache_write: int = 0
    output: int = 0
    """Output tokens other than reasoning ones."""
    reasoning: int = 0

    @property
    def any(self) -> bool:
        return any(
            (self.uncached_input, self.cache_read, self.cache_write, self.output, self.reasoning)
        )


def _count(attributes: Mapping[str, Any], keys: tuple[str, ...]) -> int:
    for key in keys:
        value = attributes.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return 0


def token_usage(
    input_tokens: int | None, output_tokens: int | None, attributes: Mapping[str, Any]
) -> TokenUsage:
    """A span's usage from its token columns and the cache/reasoning attributes."""
    prompt = input_tokens or 0
    read_inside = min(_count(attributes, _CACHE_READ_INSIDE), prompt)
    write_inside = min(_count(attributes, _CACHE_WRITE_INSIDE), prompt - read_inside)
    completion = output_tokens or 0
    reasoning = min(_count(attributes, _REASONING), completion)
    return TokenUsage(
        uncached_input=prompt - read_inside - write_inside,
        cache_read=read_inside + _count(attributes, _CACHE_READ_BESIDE),
        cache_write=write_inside + _count(attributes, _CACHE_WRITE_BESIDE),
        output=completion - reasoning,
        reasoning=reasoning,
    )


def cost_of(price: ModelPrice, usage: TokenUsage) -> float:
    """USD for ``usage`` at ``price``; a token kind without a price of its own is billed
    at the input (cache) or output (reasoning) price."""
    dollars_per_million = (
        usage.uncached_input * price.input
        + usage.cache_read * (price.input if price.cached_input is None else price.cached_input)
        + usage.cache_write * (price.input if price.cache_write is None else price.cache_write)
        + usage.output * price.output
        + usage.reasoning * (price.output if price.reasoning is None else price.reasoning)
    )
    # Rounded to 1e-12 USD: float sums of per-token prices would otherwise differ in the
    # last digits between a span priced here and the same span summed elsewhere.
    return round(dollars_per_million / PER_TOKENS, 12)
