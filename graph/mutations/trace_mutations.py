"""Tagging traces by hand and deleting them."""

from __future__ import annotations

import strawberry
from strawberry import relay

from access.permissions import Permission
from agenttrace.errors import NotFound
from cache.keys import project_stats_key, trace_key
from graph.context import Info
from graph.ids import node_id_of, parse_trace_node_id
from graph.permissions import CanDeleteTraces, CanTagTraces
from graph.types.Trace import Trace
from resolvers.trace_edits import delete_traces, tag_trace
from storage import audit


@strawberry.type
class TraceMutationMixin:
    @strawberry.mutation(
        permission_classes=[CanTagTraces],
        description="Adds and removes tags by hand. They stick: spans arriving later do not"
        " undo them (a removed tag stays removed even if a span carries it).",
    )
    async def tag_trace(
        self,
        info: Info,
        trace_id: relay.GlobalID,
        add: list[str] | None = None,
        remove: list[str] | None = None,
    ) -> Trace:
        key = parse_trace_node_id(node_id_of(trace_id, "Trace", "traceId"))
        viewer = await info.context.viewer()
        found = (
            await tag_trace(info.context.write_engine, key, add or [], remove or [])
            if viewer.can(Permission.TAG_TRACES, key[0])
            else None
        )
        if found is None:
            raise NotFound("no such trace")
        await info.context.cache.invalidate([trace_key(*key)])
        info.context.refresh_loaders()
        return Trace(data=found)

    @strawberry.mutation(
        permission_classes=[CanDeleteTraces],
        description="Deletes traces with their spans and annotations, in one transaction."
        " Returns how many were deleted: ids that do not exist, or are not yours, count 0.",
    )
    async def delete_traces(self, info: Info, ids: list[relay.GlobalID]) -> int:
        keys = [parse_trace_node_id(node_id_of(id, "Trace", "ids")) for id in ids]
        viewer = await info.context.viewer()
        mine = [k for k in keys if viewer.can(Permission.DELETE_TRACES, k[0])]
        deleted = await delete_traces(info.context.write_engine, mine) if mine else 0
        for project_id in sorted({p for p, _ in mine}):
            await audit.record(
                info.context.write_engine,
                viewer.principal,
                "traces.deleted",
                project_id=project_id,
                details={"requested": sum(1 for p, _ in mine if p == project_id)},
            )
        await info.context.cache.invalidate(
            [trace_key(*k) for k in mine] + [project_stats_key(p) for p in {p for p, _ in mine}]
        )
        info.context.refresh_loaders()
        return deleted
