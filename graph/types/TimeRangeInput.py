from __future__ import annotations

from datetime import datetime

import strawberry

from agenttrace.errors import InvalidArgument
from resolvers.filters import TimeRange


@strawberry.input(description="Start times in [start, end); either bound may be left open.")
class TimeRangeInput:
    start: datetime | None = None
    end: datetime | None = None

    def to_range(self) -> TimeRange:
        for bound in (self.start, self.end):
            if bound is not None and bound.tzinfo is None:
                raise InvalidArgument("time range bounds need a time zone, e.g. 2026-01-01T00:00Z")
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise InvalidArgument("time range start must be before its end")
        return TimeRange(self.start, self.end)
