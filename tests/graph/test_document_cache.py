"""Parse and validation are cached per document (graph/schema.py): the limits and the
introspection switch still hold for every request, the cached ones included."""

from __future__ import annotations

import httpx

from agenttrace.apps import Roles, build_app
from agenttrace.settings import Settings
from devservices import DevServices
from graph.schema import MAX_DEPTH
from storage.projects import DEFAULT_SCOPES, create_project
from tests.databases import fresh_database
from tests.graph.conftest import GraphApi
from tests.secrets_registry import remember_secret

INTROSPECTION = "{ __schema { queryType { name } } }"


async def test_a_refused_document_is_refused_every_time(graph_api: GraphApi) -> None:
    nested = "span { name }"
    for _ in range(MAX_DEPTH):
        nested = f"children {{ {nested} }}"
    query = f'{{ project {{ trace(traceId: "{"0" * 31}1") {{ spanTree {{ {nested} }} }} }} }}'
    for _ in range(3):
        result = await graph_api.query(query)
        assert result.get("data") is None
        assert "exceeds maximum operation depth" in result["errors"][0]["message"]


async def test_each_app_keeps_its_introspection_switch_for_the_same_document(
    graph_api: GraphApi, services: DevServices
) -> None:
    # The caches are per process; an app with introspection off must not reuse the
    # validation of an app with it on.
    assert (await graph_api.data(INTROSPECTION))["__schema"]["queryType"]["name"] == "Query"
    url = await fresh_database(services, "graph_no_introspection")
    app = build_app(Settings(database_url=url, graphql_introspection=False), url, Roles(query=True))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as http,
    ):
        project = await create_project(app.state.query_engine, "introspection", DEFAULT_SCOPES)
        for _ in range(2):
            response = await http.post(
                "/graphql",
                json={"query": INTROSPECTION},
                headers={"Authorization": f"Bearer {remember_secret(project.api_key)}"},
            )
            assert "introspection has been disabled" in response.text
    assert (await graph_api.data(INTROSPECTION))["__schema"]["queryType"]["name"] == "Query"
