from __future__ import annotations

import strawberry

from agenttrace.errors import InvalidArgument
from resolvers.filters import NumberRange


@strawberry.input(description="Values in [min, max]; either bound may be left open.")
class NumberRangeInput:
    min: float | None = None
    max: float | None = None

    def to_range(self) -> NumberRange:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise InvalidArgument("range min must not be greater than its max")
        return NumberRange(self.min, self.max)
