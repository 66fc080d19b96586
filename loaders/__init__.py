"""Dataloaders, one per file, each with explicit Key and Result types. A fresh set is made
per request (``Loaders.create``), so batching and caching never cross requests; each
loader of the set is made when first used, since a request needs two or three of them
and making all twelve was a tenth of a trivial query's time."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncEngine

from cache.store import Cache
from loaders.annotation_by_id import AnnotationByIdLoader
from loaders.annotations_by_span import AnnotationsBySpanLoader
from loaders.annotations_by_trace import AnnotationsByTraceLoader
from loaders.api_key_by_id import ApiKeyByIdLoader
from loaders.api_keys_by_project import ApiKeysByProjectLoader
from loaders.children_by_span import ChildrenBySpanLoader
from loaders.model_prices_by_project import ModelPricesByProjectLoader
from loaders.project_by_id import ProjectByIdLoader
from loaders.project_stats import ProjectStatsLoader
from loaders.span_by_id import SpanByIdLoader
from loaders.spans_by_trace import SpansByTraceLoader
from loaders.trace_by_id import TraceByIdLoader
from loaders.trace_tree import TraceTreeLoader


class Loaders:
    def __init__(self, engine: AsyncEngine, cache: Cache) -> None:
        self._engine = engine
        self._cache = cache

    @classmethod
    def create(cls, engine: AsyncEngine, cache: Cache) -> Loaders:
        return cls(engine, cache)

    @cached_property
    def trace_by_id(self) -> TraceByIdLoader:
        return TraceByIdLoader(self._engine)

    @cached_property
    def spans_by_trace(self) -> SpansByTraceLoader:
        return SpansByTraceLoader(self._engine)

    @cached_property
    def trace_tree(self) -> TraceTreeLoader:
        return TraceTreeLoader(self.spans_by_trace)

    @cached_property
    def span_by_id(self) -> SpanByIdLoader:
        return SpanByIdLoader(self._engine)

    @cached_property
    def children_by_span(self) -> ChildrenBySpanLoader:
        return ChildrenBySpanLoader(self._engine)

    @cached_property
    def project_by_id(self) -> ProjectByIdLoader:
        return ProjectByIdLoader(self._engine)

    @cached_property
    def model_prices_by_project(self) -> ModelPricesByProjectLoader:
        return ModelPricesByProjectLoader(self._engine)

    @cached_property
    def project_stats(self) -> ProjectStatsLoader:
        return ProjectStatsLoader(self._engine, self._cache)

    @cached_property
    def annotation_by_id(self) -> AnnotationByIdLoader:
        return AnnotationByIdLoader(self._engine)

    @cached_property
    def annotations_by_trace(self) -> AnnotationsByTraceLoader:
        return AnnotationsByTraceLoader(self._engine)

    @cached_property
    def annotations_by_span(self) -> AnnotationsBySpanLoader:
        return AnnotationsBySpanLoader(self._engine)

    @cached_property
    def api_key_by_id(self) -> ApiKeyByIdLoader:
        return ApiKeyByIdLoader(self._engine)

    @cached_property
    def api_keys_by_project(self) -> ApiKeysByProjectLoader:
        return ApiKeysByProjectLoader(self._engine)
