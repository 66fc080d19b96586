"""A live subscription opened with a person's access token ends, with UNAUTHENTICATED,
once that token expires (it re-checks its credentials while quiet)."""

from __future__ import annotations

import asyncio

from agenttrace.settings import Settings
from devservices import DevServices
from tests.access.apps import first_subscription_result, running_app
from tests.databases import fresh_database
from tests.secrets_registry import remember_secret

ADMIN = "expiry@example.com"
ADMIN_PASSWORD = remember_secret("correct horse battery staple")


async def test_a_subscription_ends_when_its_access_token_expires(services: DevServices) -> None:
    url = await fresh_database(services, "expiry")
    settings = Settings(
        database_url=url, admin_email=ADMIN, admin_password=ADMIN_PASSWORD, access_token_ttl_s=1
    )
    async with running_app(settings) as (http, app):
        response = await http.post(
            "/api/v1/auth/login", json={"email": ADMIN, "password": ADMIN_PASSWORD}
        )
        token = response.json()["access_token"]
        created = await http.post(
            "/graphql",
            json={"query": 'mutation { createProject(name: "live") { project { id } } }'},
            headers={"Authorization": f"Bearer {token}"},
        )
        project = created.json()["data"]["createProject"]["project"]["id"]
        # Quiet: nothing but the subscription's own re-check can answer.
        result = await asyncio.wait_for(
            first_subscription_result(
                app,
                token,
                "subscription($p: ID) { traceUpdates(projectId: $p) { name } }",
                {"p": project},
            ),
            60,
        )
        assert result.errors is not None
        assert result.errors[0].message == (
            "the access token has expired; refresh it or log in again"
        )
        assert result.errors[0].extensions == {"code": "UNAUTHENTICATED"}
