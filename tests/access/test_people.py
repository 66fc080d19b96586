"""People against the real app on a fresh database: the first admin, login, tokens
(expired, refreshed, reused, logged out), one-time passwords, roles in organisations,
isolation between organisations, API-key scopes, and the audit log."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from access.tokens import AUDIENCE, GENERATED_SECRET, ISSUER
from agenttrace.apps import Roles, build_app
from agenttrace.settings import Settings
from devservices import DevServices
from storage.projects import create_project
from tests.databases import fresh_database
from tests.secrets_registry import remember_secret

ADMIN = "root@example.com"
ADMIN_PASSWORD = remember_secret("correct horse battery staple")
PASSWORD = remember_secret("a long enough password")

PROJECTS = "{ projects { name } }"


@dataclass
class People:
    http: httpx.AsyncClient
    engine: AsyncEngine

    async def login(self, email: str, password: str) -> httpx.Response:
        return await self.http.post(
            "/api/v1/auth/login", json={"email": email, "password": password}
        )

    async def token(self, email: str, password: str) -> str:
        response = await self.login(email, password)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    async def graphql(
        self, token: str, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def data(
        self, token: str, query: str, variables: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        result = await self.graphql(token, query, variables)
        assert "errors" not in result, result["errors"]
        data: dict[str, Any] = result["data"]
        return data


def error_of(result: dict[str, Any]) -> tuple[str, str | None]:
    [error] = result["errors"]
    return error["message"], (error.get("extensions") or {}).get("code")


@pytest.fixture(scope="module")
async def people(services: DevServices) -> AsyncIterator[People]:
    url = await fresh_database(services, "people")
    settings = Settings(database_url=url, admin_email=ADMIN, admin_password=ADMIN_PASSWORD)
    app = build_app(settings, url, Roles(query=True))
    async with app.router.lifespan_context(app):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test")
        async with client:
            yield People(client, app.state.engine)


async def create_user(people: People, admin: str, email: str, **extra: Any) -> dict[str, Any]:
    data = await people.data(
        admin,
        """mutation($email: String!, $password: String, $org: ID, $role: Role) {
             createUser(email: $email, password: $password, organizationId: $org, role: $role) {
               userId email oneTimePassword } }""",
        {"email": email, **extra},
    )
    created: dict[str, Any] = data["createUser"]
    return created


async def new_organization(people: People, admin: str, name: str) -> str:
    data = await people.data(
        admin, "mutation($n: String!) { createOrganization(name: $n) { id } }", {"n": name}
    )
    organization_id: str = data["createOrganization"]["id"]
    return organization_id


async def new_project(people: People, token: str, name: str, organization_id: str) -> str:
    data = await people.data(
        token,
        """mutation($n: String!, $o: ID) { createProject(name: $n, organizationId: $o) {
             project { id } } }""",
        {"n": name, "o": organization_id},
    )
    project_id: str = data["createProject"]["project"]["id"]
    return project_id


async def test_the_first_admin_logs_in_and_sees_the_default_organization(
    people: People,
) -> None:
    token = await people.token(ADMIN, ADMIN_PASSWORD)
    data = await people.data(
        token, "{ viewer { principal email isAdmin organizations { name permissions } } }"
    )
    viewer = data["viewer"]
    assert viewer["email"] == ADMIN
    assert viewer["isAdmin"] is True
    assert viewer["principal"].startswith("user:")
    [default] = viewer["organizations"]
    assert default["name"] == "Default"
    assert "manage_members" in default["permissions"]


async def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(people: People) -> None:
    wrong = await people.login(ADMIN, "not the password at all")
    unknown = await people.login("nobody@example.com", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"error": "wrong email or password"}


async def test_an_expired_or_forged_access_token_is_refused_with_401(people: People) -> None:
    token = await people.token(ADMIN, ADMIN_PASSWORD)
    claims = jwt.decode(token, options={"verify_signature": False})
    async with people.engine.connect() as conn:
        secret = await conn.scalar(
            text("SELECT value FROM server_secrets WHERE name = :n"), {"n": GENERATED_SECRET}
        )
    now = int(time.time())
    expired = jwt.encode(
        {**claims, "iat": now - 3600, "nbf": now - 3600, "exp": now - 60},
        bytes(secret),
        algorithm="HS256",
    )
    forged = jwt.encode({**claims, "exp": now + 600}, b"x" * 32, algorithm="HS256")
    unsigned = jwt.encode({**claims, "exp": now + 600}, None, algorithm="none")
    for bad, message in [
        (expired, "the access token has expired; refresh it or log in again"),
        (forged, "invalid access token"),
        (unsigned, "invalid access token"),
    ]:
        response = await people.http.get(
            "/api/v1/projects", headers={"Authorization": f"Bearer {bad}"}
        )
        assert response.status_code == 401, bad
        assert response.json() == {"error": message}
        assert response.headers["WWW-Authenticate"] == "Bearer"
        result = await people.graphql(bad, PROJECTS)
        assert error_of(result) == (message, "UNAUTHENTICATED")
    assert claims["iss"] == ISSUER
    assert claims["aud"] == AUDIENCE


async def test_a_refresh_token_works_once_and_its_reuse_ends_every_session(
    people: People,
) -> None:
    email = f"refresh-{uuid.uuid4().hex[:6]}@example.com"
    admin = await people.token(ADMIN, ADMIN_PASSWORD)
    await create_user(people, admin, email, password=PASSWORD)
    first = (await people.login(email, PASSWORD)).json()
    rotated = await people.http.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert rotated.status_code == 200
    second = rotated.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await people.graphql(second["access_token"], "{ viewer { email } }"))["data"]

    # The first token again: it was copied, so every token of the user is revoked.
    reused = await people.http.post(
        "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
    )
    assert reused.status_code == 401
    assert "revoked" in reused.json()["error"]
    after = await people.http.post(
        "/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]}
    )
    assert after.status_code == 401


async def test_logout_revokes_the_refresh_token(people: People) -> None:
    session = (await people.login(ADMIN, ADMIN_PASSWORD)).json()
    body = {"refresh_token": session["refresh_token"]}
    assert (await people.http.post("/api/v1/auth/logout", json=body)).status_code == 204
    assert (await people.http.post("/api/v1/auth/logout", json=body)).status_code == 204
    refused = await people.http.post("/api/v1/auth/refresh", json=body)
    assert refused.status_code == 401


async def test_a_one_time_password_allows_nothing_but_changing_it(people: People) -> None:
    admin = await people.token(ADMIN, ADMIN_PASSWORD)
    email = f"new-{uuid.uuid4().hex[:6]}@example.com"
    created = await create_user(people, admin, email)
    one_time = remember_secret(created["oneTimePassword"])

    session = (await people.login(email, one_time)).json()
    assert session["must_change_password"] is True
    token = session["access_token"]
    result = await people.graphql(token, PROJECTS)
    assert error_of(result) == (
        "change your one-time password first (POST /api/v1/auth/password)",
        "FORBIDDEN",
    )
    rest = await people.http.get("/api/v1/projects", headers={"Authorization": f"Bearer {token}"})
    assert rest.status_code == 403

    short = await people.http.post(
        "/api/v1/auth/password",
        json={"current_password": one_time, "new_password": "short"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert short.status_code == 400
    assert "at least 12 characters" in short.json()["error"]
    changed = await people.http.post(
        "/api/v1/auth/password",
        json={"current_password": one_time, "new_password": PASSWORD},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["must_change_password"] is False
    fresh = changed.json()["access_token"]
    viewer = (await people.data(fresh, "{ viewer { mustChangePassword } }"))["viewer"]
    assert viewer == {"mustChangePassword": False}
    # The old session (its refresh token) ended with the change; the old password is gone.
    old = await people.http.post(
        "/api/v1/auth/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert old.status_code == 401
    assert (await people.login(email, one_time)).status_code == 401


async def test_roles_decide_what_a_person_may_do_and_organizations_are_isolated(
    people: People,
) -> None:
    admin = await people.token(ADMIN, ADMIN_PASSWORD)
    suffix = uuid.uuid4().hex[:6]
    acme = await new_organization(people, admin, f"acme-{suffix}")
    rival = await new_organization(people, admin, f"rival-{suffix}")
    acme_project = await new_project(people, admin, f"acme-app-{suffix}", acme)
    rival_project = await new_project(people, admin, f"rival-app-{suffix}", rival)

    tokens = {}
    for role in ("viewer", "member", "admin", "owner"):
        email = f"{role}-{suffix}@example.com"
        await create_user(people, admin, email, password=PASSWORD, org=acme, role=role.upper())
        tokens[role] = await people.token(email, PASSWORD)

    # Everyone in acme sees acme's project, and nothing of rival's.
    for token in tokens.values():
        data = await people.data(token, PROJECTS)
        assert [p["name"] for p in data["projects"]] == [f"acme-app-{suffix}"]
        found = await people.data(
            token, "query($id: ID!) { node(id: $id) { id } }", {"id": rival_project}
        )
        assert found["node"] is None  # the same answer as for a missing project
        rest = await people.http.get(
            "/api/v1/traces",
            params={"project": rival_project.split(":")[-1]},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert rest.status_code in (400, 404)

    rename = "mutation($id: ID!) { renameProject(id: $id, name: $n) { name } }"
    rename = rename.replace("$id: ID!)", "$id: ID!, $n: String!)")
    key = "mutation($p: ID!) { createApiKey(projectId: $p, scopes: [INGEST, READ]) { secret } }"
    members = "query { viewer { organizations { members { email role } } } }"
    delete = "mutation($id: ID!) { deleteProject(id: $id) }"

    async def allowed(role: str, query: str, variables: dict[str, Any]) -> bool:
        result = await people.graphql(tokens[role], query, variables)
        if "errors" in result:
            assert error_of(result)[1] == "FORBIDDEN", result
            return False
        return True

    names = {"n": f"renamed-{suffix}", "id": acme_project}
    assert [await allowed(r, rename, names) for r in ("viewer", "member")] == [False, False]
    assert await allowed("admin", rename, names)
    assert [await allowed(r, key, {"p": acme_project}) for r in tokens] == [
        False,
        False,
        True,
        True,
    ]
    assert [await allowed(r, members, {}) for r in tokens] == [False, False, True, True]
    message = await people.graphql(tokens["member"], members)
    assert error_of(message) == ("your role does not allow 'manage_members'", "FORBIDDEN")

    # Nobody in acme can touch rival's project, whatever their role.
    result = await people.graphql(tokens["owner"], delete, {"id": rival_project})
    assert error_of(result)[1] == "FORBIDDEN"
    assert not await allowed("admin", delete, {"id": acme_project})
    assert await allowed("owner", delete, {"id": acme_project})


async def test_only_owners_make_owners_and_the_last_owner_stays(people: People) -> None:
    admin = await people.token(ADMIN, ADMIN_PASSWORD)
    suffix = uuid.uuid4().hex[:6]
    org = await new_organization(people, admin, f"owned-{suffix}")
    admin_email = f"orgadmin-{suffix}@example.com"
    await create_user(people, admin, admin_email, password=PASSWORD, org=org, role="ADMIN")
    org_admin = await people.token(admin_email, PASSWORD)
    member_email = f"plain-{suffix}@example.com"
    await create_user(people, admin, member_email, password=PASSWORD)

    set_role = """mutation($o: ID!, $e: String!, $r: Role!) {
        setMemberRole(organizationId: $o, email: $e, role: $r) { email role } }"""
    made = await people.data(org_admin, set_role, {"o": org, "e": member_email, "r": "MEMBER"})
    assert made["setMemberRole"] == {"email": member_email, "role": "MEMBER"}
    refused = await people.graphql(org_admin, set_role, {"o": org, "e": member_email, "r": "OWNER"})
    assert error_of(refused) == ("only an owner may make or change an owner", "FORBIDDEN")
    # The server admin created the organization, so it is its only owner.
    last = await people.graphql(admin, set_role, {"o": org, "e": ADMIN, "r": "ADMIN"})
    assert error_of(last)[1] == "CONFLICT"
    # Another organization's id is answered like a missing one.
    other = await people.graphql(
        org_admin, set_role, {"o": str(uuid.uuid4()), "e": member_email, "r": "VIEWER"}
    )
    assert error_of(other)[1] == "NOT_FOUND"


async def test_api_keys_are_limited_to_their_scopes(people: People) -> None:
    project = await create_project(people.engine, f"scoped-{uuid.uuid4().hex[:6]}", ("ingest",))
    result = await people.graphql(project.api_key, PROJECTS)
    assert error_of(result) == ("this API key lacks the permission 'read_traces'", "FORBIDDEN")
    response = await people.http.get(
        "/api/v1/traces", headers={"Authorization": f"Bearer {project.api_key}"}
    )
    assert response.status_code == 403
    result = await people.graphql(project.api_key, "{ viewer { principal } }")
    assert result["data"]["viewer"]["principal"] == f"key:{project.key_id}"
    people_only = await people.graphql(
        project.api_key, 'mutation { createOrganization(name: "nope") { id } }'
    )
    assert error_of(people_only) == ("only a server administrator may do this", "FORBIDDEN")


async def test_an_api_key_records_when_it_was_last_used(people: People) -> None:
    project = await create_project(people.engine, f"used-{uuid.uuid4().hex[:6]}", ("read",))
    async with people.engine.connect() as conn:
        before = await conn.scalar(
            text("SELECT last_used_at FROM api_keys WHERE id = :id"), {"id": project.key_id}
        )
    assert before is None
    await people.graphql(project.api_key, PROJECTS)
    async with people.engine.connect() as conn:
        after = await conn.scalar(
            text("SELECT last_used_at FROM api_keys WHERE id = :id"), {"id": project.key_id}
        )
    assert after is not None


async def test_the_audit_log_names_who_did_what_and_only_admins_read_it(
    people: People,
) -> None:
    admin = await people.token(ADMIN, ADMIN_PASSWORD)
    suffix = uuid.uuid4().hex[:6]
    org = await new_organization(people, admin, f"audited-{suffix}")
    project = await new_project(people, admin, f"audited-app-{suffix}", org)
    created = await people.data(
        admin,
        "mutation($p: ID!) { createApiKey(projectId: $p, scopes: [READ]) { apiKey { id } } }",
        {"p": project},
    )
    key_id = created["createApiKey"]["apiKey"]["id"]
    await people.data(admin, "mutation($id: ID!) { revokeApiKey(id: $id) { id } }", {"id": key_id})
    member = f"auditee-{suffix}@example.com"
    await create_user(people, admin, member, password=PASSWORD, org=org, role="MEMBER")

    log = """query { viewer { organizations { id auditLog(first: 20) {
        nodes { actor action target details } } } } }"""
    data = await people.data(admin, log)
    [audited] = [o for o in data["viewer"]["organizations"] if o["id"] == org]
    actions = [e["action"] for e in audited["auditLog"]["nodes"]]
    assert actions == [
        "user.created",
        "api_key.revoked",
        "api_key.created",
        "project.created",
        "organization.created",
    ]
    me = (await people.data(admin, "{ viewer { principal } }"))["viewer"]["principal"]
    assert {e["actor"] for e in audited["auditLog"]["nodes"]} == {me}
    assert all("secret" not in str(e["details"]) for e in audited["auditLog"]["nodes"])

    member_token = await people.token(member, PASSWORD)
    refused = await people.graphql(member_token, log)
    assert error_of(refused) == ("your role does not allow 'read_audit_log'", "FORBIDDEN")


async def test_the_eleventh_bad_login_in_a_minute_is_refused_even_with_the_right_password(
    people: People,
) -> None:
    admin = await people.token(ADMIN, ADMIN_PASSWORD)
    email = f"guessed-{uuid.uuid4().hex[:6]}@example.com"
    await create_user(people, admin, email, password=PASSWORD)
    for attempt in range(10):
        wrong = await people.login(email.upper(), f"guess number {attempt:04d}")
        assert wrong.status_code == 401, attempt  # the count ignores the email's case
    refused = await people.login(email, PASSWORD)
    assert refused.status_code == 429
    assert refused.json() == {"error": "too many failed logins; try again later"}
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-RateLimit-Limit"] == "10"
    # Another account is not locked by this one's failures.
    assert (await people.login(ADMIN, ADMIN_PASSWORD)).status_code == 200


async def test_a_nul_character_in_a_login_is_a_wrong_login_not_a_server_error(
    people: People,
) -> None:
    """Found by tests/fuzz: PostgreSQL text cannot hold NUL, and the lookup failed with 500."""
    response = await people.login("a\x00@example.com", "whatever password")
    assert response.status_code == 401
    assert response.json() == {"error": "wrong email or password"}
