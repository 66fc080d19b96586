from __future__ import annotations

from datetime import date

import strawberry

from agenttrace.errors import InvalidArgument
from pricing.price_table import InvalidPrice, ModelPrice


@strawberry.input(description="A model's price from a date, in USD per 1,000,000 tokens.")
class ModelPriceInput:
    model: str
    input: float
    output: float
    effective_from: date = strawberry.field(
        description="In force from this day (UTC); spans stored after the change that"
        " started on or after it are priced with it."
    )
    pattern: str | None = None
    provider: str | None = None
    cached_input: float | None = None
    cache_write: float | None = None
    reasoning: float | None = None

    def entry(self) -> ModelPrice:
        """The entry; InvalidArgument naming the field when it cannot be used."""
        try:
            return ModelPrice(
                model=self.model.strip(),
                pattern=self.pattern or None,
                provider=self.provider,
                input=self.input,
                output=self.output,
                cached_input=self.cached_input,
                cache_write=self.cache_write,
                reasoning=self.reasoning,
                effective_from=self.effective_from,
            )
        except InvalidPrice as exc:
            raise InvalidArgument(str(exc)) from None
