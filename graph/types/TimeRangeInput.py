from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers.filters import TimeRange


@strawberry.input(
    description="Start times in [start, end); either bound may be left open. Each bound needs"
    " a time zone and must lie in the years 1 to 9999 once converted to UTC."
)
class TimeRangeInput:
    start: datetime | None = None
    end: datetime | None = None

    def to_range(self) -> TimeRange:
        """The range; InvalidArgument (from TimeRange) naming a bad or misordered bound."""
        return TimeRange(self.start, self.end)
