"""The real API app twice: with the default settings (tests/graph's ``graph_api``) and
hardened (CORS for one origin, behind HTTPS, a small body limit, no introspection)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from agenttrace.apps import Roles, build_app
from agenttrace.settings import Settings
from devservices import DevServices
from storage.projects import ALL_SCOPES, create_project
from tests.databases import fresh_database
from tests.graph.conftest import graph_api  # noqa: F401  (the default-settings app)
from tests.secrets_registry import remember_secret

ALLOWED_ORIGIN = "https://dashboard.example.com"
MAX_API_BODY = 4096


@dataclass
class Hardened:
    http: httpx.AsyncClient
    api_key: str
    settings: Settings

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


@pytest.fixture(scope="module")
async def hardened(services: DevServices) -> AsyncIterator[Hardened]:
    url = await fresh_database(services, "hardened")
    settings = Settings(
        database_url=url,
        cors_origins=[ALLOWED_ORIGIN],
        behind_https=True,
        max_api_body_bytes=MAX_API_BODY,
        graphql_introspection=False,
    )
    app = build_app(settings, url, Roles(query=True))
    async with app.router.lifespan_context(app):
        project = await create_project(app.state.engine, "hardened", ALL_SCOPES)
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="https://test") as http:
            yield Hardened(http, remember_secret(project.api_key), settings)
