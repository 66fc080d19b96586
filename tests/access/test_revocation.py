"""Revocation across replicas: two API apps on one database, each with its own key cache
(as two ``agenttrace api`` processes have). A key revoked through one is refused at once by
that one and, once its cache entry expires (5 s), by the other, with 401."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from agenttrace.settings import Settings
from devservices import DevServices
from storage.projects import ALL_SCOPES, create_project
from tests.access.apps import running_app
from tests.databases import fresh_database


async def graphql(client: httpx.AsyncClient, key: str, query: str, **variables: Any) -> Any:
    response = await client.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {key}"},
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def test_a_key_revoked_on_one_replica_is_refused_by_the_other(
    services: DevServices,
) -> None:
    url = await fresh_database(services, "revocation")
    settings = Settings(database_url=url)
    async with running_app(settings) as (first, app), running_app(settings) as (second, _):
        admin = (await create_project(app.state.engine, "revocation", ALL_SCOPES)).api_key
        project = (await graphql(first, admin, "{ project { id } }"))["project"]["id"]
        created = await graphql(
            first,
            admin,
            "mutation ($p: ID!) { createApiKey(projectId: $p, scopes: [READ]) {"
            " secret apiKey { id } } }",
            p=project,
        )
        key = created["createApiKey"]
        reader = {"Authorization": f"Bearer {key['secret']}"}
        assert (await second.get("/api/v1/traces", headers=reader)).status_code == 200

        await graphql(
            first,
            admin,
            "mutation ($id: ID!) { revokeApiKey(id: $id) { revokedAt } }",
            id=key["apiKey"]["id"],
        )
        assert (await first.get("/api/v1/traces", headers=reader)).status_code == 401

        for _ in range(300):  # the second replica honours its cached entry up to 5 s
            if (await second.get("/api/v1/traces", headers=reader)).status_code == 401:
                break
            await asyncio.sleep(0.1)
        response = await second.get("/api/v1/traces", headers=reader)
        assert response.status_code == 401
        assert response.json() == {"error": "invalid API key (unknown, revoked or expired)"}
