"""Live subscriptions, fed by the storage workers' events over Redis pub/sub (or the
in-process fan-out in ``serve``): a subscriber on any API replica sees what any worker
stored.

Each subscriber has a bounded buffer (messaging/live_events.py). One that stops reading
never slows ingest or other subscribers: when its buffer overflows it gets a
SUBSCRIBER_LAGGED error and the subscription ends; the client resubscribes and
re-queries, which is the only way to be sure it missed nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

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
from resolvers.filters import Conditions, trace_where
from resolvers.live_traces import span_keys_from_event, trace_from_event
from resolvers.spans import spans_by_keys, spans_of_traces
from resolvers.traces import matching_trace_ids
from resolvers.tree import tree_order


class SubscriberFellBehind(UserError):
    code = "SUBSCRIBER_LAGGED"


KEY_RECHECK_S = 5.0
"""How often a quiet subscription re-checks its credentials: a revoked key, an expired access
token or a lost role ends it."""


async def _while_allowed(
    info: Info, project: uuid.UUID, events: AsyncIterator[dict[str, Any]]
) -> AsyncIterator[dict[str, Any]]:
    """The events, for as long as the caller may still read the project: checked before
    each event and every KEY_RECHECK_S while quiet, so a revoked key's subscriptions end
    (with the same error a new request would get). Each event starts with fresh
    dataloaders: a subscription lives for hours, and its fields must show the present."""
    pending: asyncio.Future[dict[str, Any]] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(events))
            done, _ = await asyncio.wait({pending}, timeout=KEY_RECHECK_S)
            await info.context.project_for(project, Permission.READ_TRACES)
            if not done:
                continue
            try:
                event = pending.result()
            except StopAsyncIteration:
                return
            pending = None
            info.context.refresh_loaders()
            yield event
    finally:
        if pending is not None:
            pending.cancel()


async def _project(info: Info, project_id: relay.GlobalID | None) -> uuid.UUID:
    if project_id is None:
        return await info.context.only_project(Permission.READ_TRACES)
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
        trace_where(project, conditions)  # a bad filter is refused now, not at the first event
        try:
            async with info.context.live.subscribe(project_channel(project)) as events:
                async for event in _while_allowed(info, project, events):
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
        info.context.refresh_loaders()  # the connection's loaders may hold older data
        try:
            # Subscribe before reading what is stored, so nothing falls in between.
            async with info.context.live.subscribe(project_channel(project)) as events:
                stored = (await spans_of_traces(engine, [key]))[key]
                for entry in tree_order(stored):
                    yield Span.of(entry.span, entry.depth)
                async for event in _while_allowed(info, project, events):
                    if event.get("trace_id") != trace_id.lower():
                        continue
                    keys = span_keys_from_event(event)
                    found = await spans_by_keys(engine, keys)
                    for span_key in keys:
                        if (span := found.get(span_key)) is not None:
                            yield Span.of(span)
        except SubscriberLagged as exc:
            raise SubscriberFellBehind(str(exc)) from None
