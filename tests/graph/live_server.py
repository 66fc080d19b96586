"""The real API app served by uvicorn on loopback (in this process), with live events
over real Redis: what third-party clients such as gql connect to."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn
from gql import Client
from gql.transport.aiohttp import AIOHTTPTransport
from gql.transport.websockets import WebsocketsTransport

from agenttrace.apps import Roles, build_app
from agenttrace.settings import Settings
from devservices import DevServices
from messaging.live_events import LiveEvents
from storage.projects import ALL_SCOPES, create_project
from tests.graph.conftest import GraphApi
from tests.processes import free_port

PROTOCOLS = [WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL, WebsocketsTransport.APOLLO_SUBPROTOCOL]


class LiveServer:
    def __init__(
        self, address: str, api_key: str, publisher: LiveEvents, project_id: uuid.UUID
    ) -> None:
        self.url = f"ws://{address}/graphql"
        self.http_url = f"http://{address}/graphql"
        self.api_key = api_key
        self.publisher = publisher
        self.project_id = project_id

    def client(self, protocol: str = PROTOCOLS[0], api_key: str | None = None) -> Client:
        transport = WebsocketsTransport(
            url=self.url,
            init_payload={"Authorization": f"Bearer {api_key or self.api_key}"},
            subprotocols=[protocol],
        )
        return Client(transport=transport)

    def http_client(self) -> Client:
        headers = {"Authorization": f"Bearer {self.api_key}"}
        return Client(transport=AIOHTTPTransport(url=self.http_url, headers=headers))


@asynccontextmanager
async def serving(
    services: DevServices, graph_api: GraphApi, **settings: Any
) -> AsyncIterator[LiveServer]:
    """The API app on a free loopback port, on the graph tests' database and real Redis,
    with a project of its own; ``settings`` override AGENTTRACE_* values."""
    url = graph_api.engine.url.render_as_string(hide_password=False)
    port = free_port()
    config = Settings(database_url=url, redis_url=services.redis_url, port=port, **settings)
    app = build_app(config, url, Roles(query=True))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(30):
        while not server.started:  # noqa: ASYNC110  uvicorn offers no event to wait on
            await asyncio.sleep(0.02)
    project = await create_project(graph_api.engine, f"live-{uuid.uuid4().hex[:8]}", ALL_SCOPES)
    publisher = LiveEvents(services.redis_url)
    await publisher.start()
    try:
        yield LiveServer(f"127.0.0.1:{port}", project.api_key, publisher, project.id)
    finally:
        await publisher.stop()
        server.should_exit = True
        await task


@pytest.fixture(scope="module")
async def live_server(services: DevServices, graph_api: GraphApi) -> AsyncIterator[LiveServer]:
    async with serving(services, graph_api) as server:
        yield server
