from __future__ import annotations

from datetime import date

import strawberry

from pricing.price_table import ModelPrice as PriceEntry


@strawberry.type(
    description="The price of one model from a date, in USD per 1,000,000 tokens: an"
    " entry of the bundled table or of a project's own (which comes first)."
)
class ModelPrice:
    model: str = strawberry.field(description="The model's name, matched exactly.")
    pattern: str | None = strawberry.field(
        description="A regular expression the whole model name may match instead"
        " (case-insensitive), e.g. dated snapshots."
    )
    provider: str | None
    effective_from: date = strawberry.field(
        description="In force from this day (UTC) until a later entry of the same model."
    )
    input: float
    output: float
    cached_input: float | None = strawberry.field(
        description="Prompt tokens read from the provider's cache; null: billed as input."
    )
    cache_write: float | None = strawberry.field(
        description="Prompt tokens written to the provider's cache; null: billed as input."
    )
    reasoning: float | None = strawberry.field(
        description="Reasoning tokens (counted in the output); null: billed as output."
    )

    @classmethod
    def of(cls, entry: PriceEntry) -> ModelPrice:
        return cls(
            model=entry.model,
            pattern=entry.pattern,
            provider=entry.provider,
            effective_from=entry.effective_from,
            input=entry.input,
            output=entry.output,
            cached_input=entry.cached_input,
            cache_write=entry.cache_write,
            reasoning=entry.reasoning,
        )
