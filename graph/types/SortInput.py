from __future__ import annotations

import strawberry

from graph.types.SortDirection import SortDirection
from graph.types.SortField import SortField
from resolvers.paging import Sort


@strawberry.input(description="Sort order; a list keeps it while paging.")
class SortInput:
    field: SortField = SortField.START_TIME  # type: ignore[valid-type]
    direction: SortDirection = SortDirection.DESC  # type: ignore[valid-type]

    def to_sort(self) -> Sort:
        return Sort(self.field, self.direction)


def sort_of(value: SortInput | None) -> Sort:
    return Sort() if value is None else value.to_sort()
