"""Annotating traces and spans, and changing or deleting annotations."""

from __future__ import annotations

import strawberry
from strawberry import relay

from access.permissions import Permission
from agenttrace.errors import NotFound
from graph.context import Info
from graph.ids import node_id_of, parse_scoped_node_id, parse_span_node_id, parse_trace_node_id
from graph.permissions import CanAnnotate
from graph.types.Annotation import Annotation
from graph.types.AnnotationInput import AnnotationInput
from resolvers.annotations import (
    AnnotationData,
    AnnotationKey,
    AnnotationTarget,
    create_annotation,
    delete_annotation,
    update_annotation,
)


async def _annotate(
    info: Info, target: AnnotationTarget, input: AnnotationInput, missing: str
) -> Annotation:
    values = input.to_values()
    viewer = await info.context.viewer()
    # Another project's trace gets the same answer as a missing one.
    created = (
        await create_annotation(info.context.write_engine, target, values)
        if viewer.can(Permission.ANNOTATE, target[0])
        else None
    )
    return _written(info, created, missing)


def _written(info: Info, data: AnnotationData | None, missing: str) -> Annotation:
    if data is None:
        raise NotFound(missing)
    info.context.refresh_loaders()
    return Annotation(data=data)


async def _annotation_key(info: Info, id: relay.GlobalID) -> AnnotationKey | None:
    """The key, or None when it is another project's (it must look missing)."""
    key = parse_scoped_node_id(node_id_of(id, "Annotation", "id"), "annotation")
    viewer = await info.context.viewer()
    return key if viewer.can(Permission.ANNOTATE, key[0]) else None


@strawberry.type
class AnnotationMutationMixin:
    @strawberry.mutation(permission_classes=[CanAnnotate], description="Annotates a trace.")
    async def annotate_trace(
        self, info: Info, trace_id: relay.GlobalID, input: AnnotationInput
    ) -> Annotation:
        project_id, trace = parse_trace_node_id(node_id_of(trace_id, "Trace", "traceId"))
        return await _annotate(info, (project_id, trace, None), input, "no such trace")

    @strawberry.mutation(permission_classes=[CanAnnotate], description="Annotates a span.")
    async def annotate_span(
        self, info: Info, span_id: relay.GlobalID, input: AnnotationInput
    ) -> Annotation:
        target = parse_span_node_id(node_id_of(span_id, "Span", "spanId"))
        return await _annotate(info, target, input, "no such span")

    @strawberry.mutation(
        permission_classes=[CanAnnotate],
        description="Replaces an annotation's values (name, score, label, comment, source).",
    )
    async def update_annotation(
        self, info: Info, id: relay.GlobalID, input: AnnotationInput
    ) -> Annotation:
        values = input.to_values()
        key = await _annotation_key(info, id)
        updated = await update_annotation(info.context.write_engine, key, values) if key else None
        return _written(info, updated, "no such annotation")

    @strawberry.mutation(
        permission_classes=[CanAnnotate],
        description="Deletes an annotation; returns its id.",
    )
    async def delete_annotation(self, info: Info, id: relay.GlobalID) -> relay.GlobalID:
        key = await _annotation_key(info, id)
        if key is None or not await delete_annotation(info.context.write_engine, key):
            raise NotFound("no such annotation")
        info.context.refresh_loaders()
        return id
