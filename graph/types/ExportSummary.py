from __future__ import annotations

import strawberry

from graph.types.ExportFormat import ExportFormat
from graph.types.Project import Project


@strawberry.type(
    description="What exportProject wrote: the project's traces that started in the range,"
    " all their spans and annotations, and a manifest.json with each file's SHA-256, under"
    " the server's export root (AGENTTRACE_EXPORT_URL). `agenttrace import` reads it back."
)
class ExportSummary:
    project: Project
    name: str = strawberry.field(description="Where, relative to the server's export root.")
    format: ExportFormat
    trace_count: int
    span_count: int
    annotation_count: int
    seconds: float = strawberry.field(description="How long the export took.")
