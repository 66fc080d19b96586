"""Exporting a project's traces and spans to the server's export root (exports/)."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry import relay

from access.permissions import Permission
from agenttrace.errors import InvalidArgument, NotFound
from exports.export import export_project
from exports.location import under_export_root
from graph.context import Info
from graph.ids import node_id_of, parse_uuid
from graph.permissions import CanManageProject
from graph.types.ExportFormat import ExportFormat
from graph.types.ExportSummary import ExportSummary
from graph.types.Project import Project
from storage import audit


@strawberry.type
class ExportMutationMixin:
    @strawberry.mutation(
        permission_classes=[CanManageProject],
        description="Exports the project's traces that started in [since, until) (either"
        " end open when left out), with all their spans and annotations, as JSONL or"
        " Parquet files and a manifest.json, to `name` under the server's export root"
        " (AGENTTRACE_EXPORT_URL; off when unset). `name` is a relative path of plain"
        " names: no '..', no leading '/', no scheme; one that already holds an export is"
        " refused. Runs to the end before answering: for large projects prefer"
        " `agenttrace export`.",
    )
    async def export_project(
        self,
        info: Info,
        project_id: relay.GlobalID,
        name: str,
        format: ExportFormat = ExportFormat.JSONL,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> ExportSummary:
        project = parse_uuid(node_id_of(project_id, "Project", "projectId"), "project")
        project = await info.context.project_for(project, Permission.MANAGE_PROJECT)
        # Checked once the caller is known to manage the project, so that another
        # organisation's project is refused as every other mutation refuses it.
        destination = under_export_root(info.context.settings.export_url, name)
        found = await info.context.loaders.project_by_id.load(project)
        if found is None:
            raise NotFound("no such project")
        for moment, argument in ((since, "since"), (until, "until")):
            if moment is not None and moment.tzinfo is None:
                raise InvalidArgument(f"{argument} needs a time zone (such as Z)")
        done = await export_project(
            info.context.engine,
            project=found.name,
            destination=destination,
            data_format=format.value,
            since=since,
            until=until,
        )
        await audit.record(
            info.context.write_engine,
            (await info.context.viewer()).principal,
            "project.exported",
            project_id=project,
            target=f"project:{project}",
            details={
                "name": name,
                "format": format.value,
                "since": None if since is None else since.isoformat(),
                "until": None if until is None else until.isoformat(),
                "traces": done.traces,
                "spans": done.spans,
            },
        )
        return ExportSummary(
            project=Project(data=found),
            name=name,
            format=format,
            trace_count=done.traces,
            span_count=done.spans,
            annotation_count=done.annotations,
            seconds=done.seconds,
        )
