from __future__ import annotations

import strawberry

from graph.types.AnnotationSource import AnnotationSource
from resolvers.annotations import (
    MAX_COMMENT_CHARS,
    MAX_LABEL_CHARS,
    MAX_NAME_CHARS,
    AnnotationValues,
    annotation_values,
)


@strawberry.input(description="An annotation's values: at least one of score, label or comment.")
class AnnotationInput:
    name: str = strawberry.field(
        description=f"What is judged, e.g. 'correctness' (1 to {MAX_NAME_CHARS} characters)."
    )
    score: float | None = strawberry.field(default=None, description="A finite number.")
    label: str | None = strawberry.field(
        default=None,
        description=f"A categorical value, e.g. 'hallucinated' (up to {MAX_LABEL_CHARS}).",
    )
    comment: str | None = strawberry.field(
        default=None, description=f"Free text, up to {MAX_COMMENT_CHARS:,} characters."
    )
    source: AnnotationSource = AnnotationSource.HUMAN  # type: ignore[valid-type]

    def to_values(self) -> AnnotationValues:
        """The values, checked; InvalidArgument names the field at fault."""
        return annotation_values(self.name, self.score, self.label, self.comment, self.source)
