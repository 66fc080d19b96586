from __future__ import annotations

import strawberry

from agenttrace.errors import InvalidArgument
from graph.types.AnnotationSource import AnnotationSource
from graph.types.NumberRangeInput import NumberRangeInput
from resolvers.filters import AnnotationCondition


@strawberry.input(
    description="Has an annotation named `name` that meets every other given condition;"
    " lists match any of their values."
)
class AnnotationFilter:
    name: str
    score: NumberRangeInput | None = None
    label: list[str] | None = None
    source: list[AnnotationSource] | None = None  # type: ignore[valid-type]

    def to_condition(self) -> AnnotationCondition:
        if not self.name.strip():
            raise InvalidArgument("annotation filter name must not be empty")
        return AnnotationCondition(
            name=self.name.strip(),
            score=self.score.to_range() if self.score else None,
            labels=tuple(self.label or ()),
            sources=tuple(str(s) for s in self.source or ()),
        )
