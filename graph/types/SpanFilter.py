from __future__ import annotations

import strawberry

from graph.filter_conditions import to_conditions
from graph.types.AnnotationFilter import AnnotationFilter
from graph.types.KeyValueInput import KeyValueInput
from graph.types.NumberRangeInput import NumberRangeInput
from graph.types.SpanKind import SpanKind
from graph.types.SpanStatus import SpanStatus
from graph.types.TextMatchInput import TextMatchInput
from graph.types.TimeRangeInput import TimeRangeInput
from resolvers.filters import Conditions


@strawberry.input(description="Every given condition must hold. Lists match any of their values.")
class SpanFilter:
    time_range: TimeRangeInput | None = None
    status: list[SpanStatus] | None = None
    kind: list[SpanKind] | None = None
    name: TextMatchInput | None = None
    model: list[str] | None = None
    tags_any: list[str] | None = None
    tags_all: list[str] | None = None
    metadata: list[KeyValueInput] | None = None
    attributes: list[KeyValueInput] | None = None
    user_id: list[str] | None = None
    session_id: list[str] | None = None
    environment: list[str] | None = None
    duration_ms: NumberRangeInput | None = None
    cost: NumberRangeInput | None = None
    has_error: bool | None = None
    annotations: list[AnnotationFilter] | None = strawberry.field(
        default=None, description="Has an annotation matching each."
    )

    def to_conditions(self) -> Conditions:
        return to_conditions(self, self.kind)


def span_conditions_of(value: SpanFilter | None) -> Conditions:
    return Conditions() if value is None else value.to_conditions()
