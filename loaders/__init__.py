"""Dataloaders, one per file, each with explicit Key and Result types. A fresh set is made
per request (``Loaders.create``), so batching and caching never cross requests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine

from cache.store import Cache
from loaders.annotation_by_id import AnnotationByIdLoader
from loaders.annotations_by_span import AnnotationsBySpanLoader
from loaders.annotations_by_trace import AnnotationsByTraceLoader
from loaders.api_key_by_id import ApiKeyByIdLoader
from loaders.api_keys_by_project import ApiKeysByProjectLoader
from loaders.children_by_span import ChildrenBySpanLoader
from loaders.project_by_id import ProjectByIdLoader
from loaders.project_stats import ProjectStatsLoader
from loaders.span_by_id import SpanByIdLoader
from loaders.spans_by_trace import SpansByTraceLoader
from loaders.trace_by_id import TraceByIdLoader
from loaders.trace_tree import TraceTreeLoader


@dataclass(frozen=True, slots=True)
class Loaders:
    trace_by_id: TraceByIdLoader
    spans_by_trace: SpansByTraceLoader
    trace_tree: TraceTreeLoader
    span_by_id: SpanByIdLoader
    children_by_span: ChildrenBySpanLoader
    project_by_id: ProjectByIdLoader
    project_stats: ProjectStatsLoader
    annotation_by_id: AnnotationByIdLoader
    annotations_by_trace: AnnotationsByTraceLoader
    annotations_by_span: AnnotationsBySpanLoader
    api_key_by_id: ApiKeyByIdLoader
    api_keys_by_project: ApiKeysByProjectLoader

    @classmethod
    def create(cls, engine: AsyncEngine, cache: Cache) -> Loaders:
        spans_by_trace = SpansByTraceLoader(engine)
        return cls(
            trace_by_id=TraceByIdLoader(engine),
            spans_by_trace=spans_by_trace,
            trace_tree=TraceTreeLoader(spans_by_trace),
            span_by_id=SpanByIdLoader(engine),
            children_by_span=ChildrenBySpanLoader(engine),
            project_by_id=ProjectByIdLoader(engine),
            project_stats=ProjectStatsLoader(engine, cache),
            annotation_by_id=AnnotationByIdLoader(engine),
            annotations_by_trace=AnnotationsByTraceLoader(engine),
            annotations_by_span=AnnotationsBySpanLoader(engine),
            api_key_by_id=ApiKeyByIdLoader(engine),
            api_keys_by_project=ApiKeysByProjectLoader(engine),
        )
