"""Live subscriptions, fed by the storage workers' events over Redis pub/sub (or the
in-process fan-out in ``serve``): a subscriber on any API replica sees what any worker
stored.

Each subscriber has a bounded buffer (messaging/live_events.py). One that stops reading
never slows ingest or other subscribers: when its buffer overflows it gets a
SUBSCRIBER_LAGGED error and the subscription ends; the client resubscribes and
re-queries, which is the only way to be sure it missed nothing.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncGenerator

import strawberry
from strawberry import relay

from access.permissions import Permission
from agenttrace.errors import UserError
from graph.context import Info
from graph.ids import parse_trace_id, parse_uuid
from graph.permissions import CanReadTraces
from graph.types.Span import Span
from graph.types.Trace import Trace
from graph.types.TraceFilter import TraceFilter, conditions_of
from messaging.live_events import SubscriberLagged, project_channel
from resolvers.filters import Conditions
from resolvers.live_traces import span_keys_from_event, trace_from_event
from resolvers.spans import spans_by_keys, spans_of_traces
from resolvers.traces import matching_trace_ids
from resolvers.tree import tree_order


class SubscriberFellBehind(UserError):
    code = "SUBSCRIBER_LAGGED"


async def _project(info: Info, project_id: relay.GlobalID | None) -> uuid.UUID:
    if project_id is None:
        return (await info.context.viewer()).project_id
    return await info.context.project_for(
        parse_uuid(project_id.node_id, "project"), Permission.READ_TRACES
    )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        permission_classes=[CanReadTraces],
        description="Each new or changed trace of the project that matches the filter, as"
        " it is stored. Without projectId: the API key's project.",
    )
    async def trace_updates(
        self,
        info: Info,
        project_id: relay.GlobalID | None = None,
        filter: TraceFilter | None = None,
    ) -> AsyncGenerator[Trace, None]:
        project = await _project(info, project_id)
        conditions = conditions_of(filter)
        unfiltered = conditions == Conditions()
        try:
            async with info.context.live.subscribe(project_channel(project)) as events:
                async for event in events:
                    trace = trace_from_event(event)
                    if not unfiltered:
                        # The same SQL as the trace list decides what matches.
                        only_this = dataclasses.replace(conditions, trace_ids=(trace.trace_id,))
                        if not await matching_trace_ids(info.context.engine, project, only_this):
                            continue
                    yield Trace(data=trace)
        except SubscriberLagged as exc:
            raise SubscriberFellBehind(str(exc)) from None

    @strawberry.subscription(
        permission_classes=[CanReadTraces],
        description="The spans of one trace: first those already stored (in tree order),"
        " then each span as it is stored or changes (a running span arrives again when it"
        " ends). A span may arrive more than once: key it by spanId.",
    )
    async def trace_spans(
        self, info: Info, trace_id: str, project_id: relay.GlobalID | None = None
    ) -> AsyncGenerator[Span, None]:
        project = await _project(info, project_id)
        key = (project, parse_trace_id(trace_id))
        engine = info.context.engine
        try:
            # Subscribe before reading what is stored, so nothing falls in between.
            async with info.context.live.subscribe(project_channel(project)) as events:
                stored = (await spans_of_traces(engine, [key]))[key]
                for entry in tree_order(stored):
                    yield Span.of(entry.span, entry.depth)
                async for event in events:
                    if event.get("trace_id") != trace_id.lower():
                        continue
                    keys = span_keys_from_event(event)
                    found = await spans_by_keys(engine, keys)
                    for span_key in keys:
                        if (span := found.get(span_key)) is not None:
                            yield Span.of(span)
        except SubscriberLagged as exc:
            raise SubscriberFellBehind(str(exc)) from None
