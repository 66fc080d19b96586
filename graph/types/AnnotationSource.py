from __future__ import annotations

import strawberry

from resolvers.annotations import AnnotationSource as _AnnotationSource

AnnotationSource = strawberry.enum(
    _AnnotationSource, description="Who made an annotation: a person, code, or an LLM judge."
)
