"""Live subscriptions through a third-party client (gql over WebSocket), against a real
server on loopback whose live events come over real Redis."""

from __future__ import annotations

import asyncio
import socket
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
import websockets
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from graphql import ExecutionResult
from websockets import Subprotocol

from access.authenticator import Authenticator
from access.tokens import token_codec
from agenttrace.settings import Settings
from cache.store import NullCache
from devservices import DevServices
from graph.context import Context
from graph.schema import schema
from messaging.live_events import LiveEvents
from storage.projects import ALL_SCOPES, create_project
from tests.graph.conftest import GraphApi
from tests.graph.live_server import PROTOCOLS, LiveServer, serving
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
        4,
        next_step,
    )
    names = [r["traceSpans"]["name"] for r in results]
    # Each result reads the trace as it is then, not as the connection first read it.
    counts = [r["traceSpans"]["trace"]["spanCount"] for r in results]
    assert counts == sorted(counts)
    assert counts[-1] > counts[0]
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
    services: DevServices, graph_api: GraphApi
) -> None:
    """A raw WebSocket subscribes and then reads nothing (a tiny receive buffer and a
    one-message queue, as behind a slow network); a gql client on the same server still
    receives every trace."""
    tiny = socket.socket()
    tiny.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    tiny.setblocking(False)
    async with serving(services, graph_api, live_subscriber_buffer=5) as server:
        host, port = server.url.removeprefix("ws://").split("/")[0].split(":")
        await asyncio.get_running_loop().sock_connect(tiny, (host, int(port)))
        async with websockets.connect(
            server.url, sock=tiny, max_queue=1, subprotocols=[Subprotocol("graphql-transport-ws")]
        ) as stalled:
            init = {
                "type": "connection_init",
                "payload": {"Authorization": f"Bearer {server.api_key}"},
            }
            await stalled.send(orjson.dumps(init).decode())
            await stalled.recv()
            subscribe = {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": "subscription { traceUpdates { name metadata } }"},
            }
            await stalled.send(orjson.dumps(subscribe).decode())
            big = {"blob": "x" * 100_000}

            async def flood() -> None:
                traces = []
                for n in range(20):
                    t = TraceBuilder(datetime.now(UTC), metadata=big)
                    t.span(f"flood {n}", kind="AGENT")
                    traces.append(t)
                await store_and_announce(
                    graph_api.engine, server.project_id, *traces, live=server.publisher
                )

            received = await _first_results(
                server.client(), "subscription { traceUpdates { name } }", {}, 200, flood
            )
            assert len(received) == 200


async def test_a_subscriber_that_falls_behind_gets_subscriber_lagged(
    services: DevServices, graph_api: GraphApi
) -> None:
    """The subscription resolver, driven directly: five events fit the buffer, the sixth
    overflows it, and the next result is a SUBSCRIBER_LAGGED error naming what to do."""
    live = LiveEvents(None, subscriber_buffer=5)
    await live.start()
    project = await create_project(graph_api.engine, f"lag-{uuid.uuid4().hex[:8]}", ALL_SCOPES)
    context = Context(
        settings=Settings(),
        engine=graph_api.engine,
        write_engine=graph_api.engine,
        auth=Authenticator(graph_api.engine, await token_codec(Settings(), graph_api.engine)),
        live=live,
        cache=NullCache(),
    )
    context.connection_params = {"Authorization": f"Bearer {project.api_key}"}
    try:
        stream = await schema.subscribe(
            "subscription { traceUpdates { name } }", context_value=context
        )
        assert not isinstance(stream, ExecutionResult)
        first = asyncio.ensure_future(anext(stream))
        async with asyncio.timeout(30):
            while not first.done():  # until the subscription is live
                warmup = TraceBuilder(datetime.now(UTC))
                warmup.span("warm-up", kind="AGENT")
                await store_and_announce(graph_api.engine, project.id, warmup, live=live)
                await asyncio.wait([first], timeout=0.1)
        assert (await first).data == {"traceUpdates": {"name": "warm-up"}}
        traces = []
        for n in range(7):
            trace = TraceBuilder(datetime.now(UTC))
            trace.span(f"t{n}", kind="AGENT")
            traces.append(trace)
        await store_and_announce(graph_api.engine, project.id, *traces, live=live)
        await asyncio.sleep(0.1)  # the hub hands out events without waiting for readers
        result = await asyncio.wait_for(anext(stream), 10)
        assert result.errors is not None
        assert (
            "fell more than 5 events behind; resubscribe and re-query" in result.errors[0].message
        )
        assert result.errors[0].extensions == {"code": "SUBSCRIBER_LAGGED"}
        await stream.aclose()
    finally:
        await live.stop()


async def test_revoking_a_key_ends_its_open_subscriptions(
    graph_api: GraphApi, live_server: LiveServer
) -> None:
    async with live_server.http_client() as admin:
        project = await admin.execute(GraphQLRequest("{ project { id } }"))
        created = await admin.execute(
            GraphQLRequest(
                """mutation ($p: ID!) { createApiKey(projectId: $p, scopes: [READ]) {
                    secret apiKey { id } } }""",
                variable_values={"p": project["project"]["id"]},
            )
        )
    reader = created["createApiKey"]
    results: list[dict[str, Any]] = []

    async def subscribe() -> None:
        async with live_server.client(api_key=reader["secret"]) as session:
            request = GraphQLRequest("subscription { traceUpdates { name } }")
            async for result in session.subscribe(request):
                results.append(result)

    subscription = asyncio.create_task(subscribe())
    async with asyncio.timeout(30):
        while not results:  # until the subscription is live
            trace = TraceBuilder(datetime.now(UTC))
            trace.span("before revoke", kind="AGENT")
            await store_and_announce(
                graph_api.engine, live_server.project_id, trace, live=live_server.publisher
            )
            await asyncio.wait([subscription], timeout=0.3)
    async with live_server.http_client() as admin:
        await admin.execute(
            GraphQLRequest(
                "mutation ($id: ID!) { revokeApiKey(id: $id) { revokedAt } }",
                variable_values={"id": reader["apiKey"]["id"]},
            )
        )
    # Quiet from here on: the subscription ends on its own re-check, not on an event.
    with pytest.raises(TransportQueryError, match="invalid API key"):
        async with asyncio.timeout(30):
            await subscription
