"""The root Mutation type: one mixin per concern, each field guarded by permission
classes (tests/graph/test_mutations.py fails the build if one is not)."""

from __future__ import annotations

import strawberry

from graph.mutations.annotation_mutations import AnnotationMutationMixin
from graph.mutations.api_key_mutations import ApiKeyMutationMixin
from graph.mutations.export_mutations import ExportMutationMixin
from graph.mutations.masking_mutations import MaskingMutationMixin
from graph.mutations.model_price_mutations import ModelPriceMutationMixin
from graph.mutations.people_mutations import PeopleMutationMixin
from graph.mutations.project_mutations import ProjectMutationMixin
from graph.mutations.rate_limit_mutations import RateLimitMutationMixin
from graph.mutations.retention_mutations import RetentionMutationMixin
from graph.mutations.trace_mutations import TraceMutationMixin


@strawberry.type
class Mutation(
    ProjectMutationMixin,
    RateLimitMutationMixin,
    ApiKeyMutationMixin,
    TraceMutationMixin,
    AnnotationMutationMixin,
    PeopleMutationMixin,
    ModelPriceMutationMixin,
    MaskingMutationMixin,
    RetentionMutationMixin,
    ExportMutationMixin,
):
    pass
