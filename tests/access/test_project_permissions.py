"""Project.viewerPermissions: what the caller may do in each project, as the dashboard
reads it to decide which controls to show (a person's role, an API key's scopes)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from access.permissions import ROLE_PERMISSIONS, SCOPE_PERMISSIONS, Role
from agenttrace.apps import Roles, build_app
from agenttrace.settings import Settings
from devservices import DevServices
from storage.projects import create_project
from tests.access.test_people import (
    ADMIN,
    ADMIN_PASSWORD,
    PASSWORD,
    People,
    create_user,
    new_organization,
    new_project,
)
from tests.databases import fresh_database

PERMISSIONS = "{ projects { id name viewerPermissions } }"


@pytest.fixture(scope="module")
async def people(services: DevServices) -> AsyncIterator[People]:
    url = await fresh_database(services, "project_permissions")
    settings = Settings(database_url=url, admin_email=ADMIN, admin_password=ADMIN_PASSWORD)
    app = build_app(settings, url, Roles(query=True))
    async with app.router.lifespan_context(app):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test")
        async with client:
            yield People(client, app.state.engine)


async def test_each_role_sees_its_permissions_in_the_project(people: People) -> None:
    admin = await people.token(ADMIN, ADMIN_PASSWORD)
    suffix = uuid.uuid4().hex[:6]
    org = await new_organization(people, admin, f"perms-{suffix}")
    project = await new_project(people, admin, f"perms-app-{suffix}", org)

    for role in Role:
        email = f"{role}-{suffix}@example.com"
        await create_user(people, admin, email, password=PASSWORD, org=org, role=role.upper())
        token = await people.token(email, PASSWORD)
        data = await people.data(token, PERMISSIONS)
        [seen] = data["projects"]
        assert seen["id"] == project
        assert seen["viewerPermissions"] == sorted(ROLE_PERMISSIONS[role])

    # Through the organisation too, with no request per project (it reads the caller).
    viewer = await people.data(
        admin, "{ viewer { organizations { projects { name viewerPermissions } } } }"
    )
    [owned] = [
        p
        for o in viewer["viewer"]["organizations"]
        for p in o["projects"]
        if p["name"] == f"perms-app-{suffix}"
    ]
    assert owned["viewerPermissions"] == sorted(ROLE_PERMISSIONS[Role.OWNER])
    assert "manage_keys" in owned["viewerPermissions"]


async def test_an_api_key_sees_its_scopes_permissions(people: People) -> None:
    created = await create_project(
        people.engine, f"keyed-{uuid.uuid4().hex[:6]}", ("read", "annotate")
    )
    data = await people.data(created.api_key, PERMISSIONS)
    [seen] = data["projects"]
    expected = SCOPE_PERMISSIONS["read"] | SCOPE_PERMISSIONS["annotate"]
    assert seen["viewerPermissions"] == sorted(expected)
    assert "manage_keys" not in seen["viewerPermissions"]
