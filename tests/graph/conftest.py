"""An in-process API (the real FastAPI app with its lifespan) on a fresh database, with
SQL statement counting for the N+1 tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from agenttrace.apps import Roles, build_app
from agenttrace.settings import Settings
from devservices import DevServices
from storage.projects import ALL_SCOPES, DEFAULT_SCOPES, create_project
from tests.databases import fresh_database
from tests.secrets_registry import remember_secret


@dataclass
class GraphApi:
    http: httpx.AsyncClient
    engine: AsyncEngine
    """The app's own query engine: the one whose statements are counted."""
    project_id: uuid.UUID
    api_key: str
    statements: list[str] = field(default_factory=list)

    async def query(
        self, query: str, variables: dict[str, Any] | None = None, api_key: str | None = None
    ) -> dict[str, Any]:
        """The full GraphQL response (data and errors)."""
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {api_key or self.api_key}"},
        )
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The data of a query that must succeed."""
        result = await self.query(query, variables)
        assert "errors" not in result, result["errors"]
        data: dict[str, Any] = result["data"]
        return data


@pytest.fixture(scope="module")
async def graph_api(services: DevServices) -> AsyncIterator[GraphApi]:
    url = await fresh_database(services, "graph")
    settings = Settings(database_url=url)
    app = build_app(settings, url, Roles(query=True))
    async with app.router.lifespan_context(app):
        engine: AsyncEngine = app.state.query_engine
        project = await create_project(engine, "graph-tests", ALL_SCOPES)
        api = GraphApi(
            http=httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test"),
            engine=engine,
            project_id=project.id,
            api_key=remember_secret(project.api_key),
        )

        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            api.statements.append(statement)

        event.listen(engine.sync_engine, "before_cursor_execute", count)
        async with api.http:
            yield api


@pytest.fixture
async def other_project(graph_api: GraphApi) -> tuple[uuid.UUID, str]:
    """A second project and its read key, for isolation checks."""
    project = await create_project(
        graph_api.engine, f"other-{uuid.uuid4().hex[:8]}", DEFAULT_SCOPES
    )
    return project.id, remember_secret(project.api_key)


from tests.graph.live_server import live_server  # noqa: E402, F401  (a fixture)
