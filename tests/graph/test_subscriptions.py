"""Live subscriptions through a third-party client (gql over WebSocket), against a real
server on loopback whose live events come over real Redis."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError

from tests.graph.conftest import GraphApi
from tests.graph.live_server import PROTOCOLS, LiveServer
from tests.graph.seeding import TraceBuilder, store_and_announce


async def _first_results(
    client: Client, query: str, variables: dict[str, Any], count: int, while_waiting: Any
) -> list[dict[str, Any]]:
    """Subscribes and collects ``count`` results; runs ``while_waiting()`` repeatedly
    until they arrive (a subscription is live only some time after it is sent)."""
    results: list[dict[str, Any]] = []

    async def collect() -> None:
        async with client as session:
            async for result in session.subscribe(GraphQLRequest(query, variable_values=variables)):
                results.append(result)
                if len(results) >= count:
                    return

    collector = asyncio.create_task(collect())
    async with asyncio.timeout(30):
        while not collector.done():
            await while_waiting()
            await asyncio.wait([collector], timeout=0.3)
    await collector
    return results


TRACE_UPDATES = """
subscription ($filter: TraceFilter) {
  traceUpdates(filter: $filter) { traceId name status spanCount userId project { name } }
}
"""


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_trace_updates_streams_stored_traces_that_match(
    graph_api: GraphApi, live_server: LiveServer, protocol: str
) -> None:
    async def announce() -> None:
        wanted = TraceBuilder(datetime.now(UTC), user_id="alice")
        wanted.span("wanted", kind="AGENT")
        other = TraceBuilder(datetime.now(UTC), user_id="bob")
        other.span("other", kind="AGENT")
        await store_and_announce(
            graph_api.engine, live_server.project_id, other, wanted, live=live_server.publisher
        )

    results = await _first_results(
        live_server.client(protocol),
        TRACE_UPDATES,
        {"filter": {"userId": ["alice"]}},
        2,
        announce,
    )
    for result in results:
        assert result["traceUpdates"]["name"] == "wanted"
        assert result["traceUpdates"]["userId"] == "alice"
        assert result["traceUpdates"]["spanCount"] == 1
        assert result["traceUpdates"]["project"]["name"].startswith("live-")


async def test_trace_spans_sends_stored_spans_then_each_new_one(
    graph_api: GraphApi, live_server: LiveServer
) -> None:
    trace = TraceBuilder(datetime.now(UTC))
    root = trace.span("agent", kind="AGENT", duration_ms=None)
    await store_and_announce(graph_api.engine, live_server.project_id, trace)
    steps = iter(range(1000))

    async def next_step() -> None:
        step = TraceBuilder(trace.start)
        step.trace_id = trace.trace_id
        step.span(f"step {next(steps)}", parent=root, offset_ms=1)
        await store_and_announce(
            graph_api.engine, live_server.project_id, step, live=live_server.publisher
        )

    results = await _first_results(
        live_server.client(),
        "subscription ($t: String!) { traceSpans(traceId: $t) { name parentSpanId trace { spanCount } } }",
        {"t": trace.trace_id},
        3,
        next_step,
    )
    names = [r["traceSpans"]["name"] for r in results]
    # Stored spans first (whatever was stored before the subscription went live), then
    # each new one: in this order either way. A span stored just as the subscription
    # went live may come twice (clients key spans by id).
    distinct = list(dict.fromkeys(names))
    assert distinct == ["agent", "step 0", "step 1", "step 2"][: len(distinct)]
    assert len(distinct) >= 2
    assert all(r["traceSpans"]["parentSpanId"] == root for r in results[1:])


async def test_subscription_without_a_valid_key_is_refused(live_server: LiveServer) -> None:
    async def subscribe() -> None:
        async with live_server.client(api_key="at_wrong") as session:
            request = GraphQLRequest("subscription { traceUpdates { traceId } }")
            async for _ in session.subscribe(request):
                pass

    with pytest.raises(TransportQueryError, match="invalid API key"):
        await subscribe()


async def test_a_subscriber_that_never_reads_does_not_stall_others(
    graph_api: GraphApi, live_server: LiveServer
) -> None:
    """A raw WebSocket that subscribes and then never reads; a gql client on the same
    server still receives every trace."""
    import websockets

    async with contextlib.AsyncExitStack() as stack:
        stalled = await stack.enter_async_context(
            websockets.connect(live_server.url, subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
        )
        init = {
            "type": "connection_init",
            "payload": {"Authorization": f"Bearer {live_server.api_key}"},
        }
        await stalled.send(orjson.dumps(init).decode())
        await stalled.recv()
        await stalled.send(
            '{"id":"1","type":"subscribe","payload":{"query":"subscription { traceUpdates { name metadata } }"}}'
        )
        big = {"blob": "x" * 20_000}

        async def flood() -> None:
            traces = []
            for n in range(50):
                t = TraceBuilder(datetime.now(UTC), metadata=big)
                t.span(f"flood {n}", kind="AGENT")
                traces.append(t)
            await store_and_announce(
                graph_api.engine, live_server.project_id, *traces, live=live_server.publisher
            )

        results = await _first_results(
            live_server.client(),
            "subscription { traceUpdates { name } }",
            {},
            200,
            flood,
        )
        assert len(results) == 200
