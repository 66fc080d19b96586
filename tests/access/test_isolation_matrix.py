"""The isolation matrix: every GraphQL query field, mutation and subscription, and every
REST route, tried against another organisation's project by every kind of caller that
may not touch it (each role of a person in organisation A, and project A's keys of each
scope). Each gets nothing of project B (no name, payload, annotation or key of it appears
in any answer) and the documented refusal; afterwards project B is exactly as it was.

The rules are enumerated against the schema and the OpenAPI document: a new field or route
without a rule here fails ``test_every_field_and_route_has_an_isolation_rule``.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from strawberry.types.base import StrawberryObjectDefinition

from agenttrace.apps import Roles
from agenttrace.settings import Settings
from devservices import DevServices
from graph.schema import schema
from tests.access.apps import first_subscription_result, running_app
from tests.databases import fresh_database
from tests.graph.seeding import TraceBuilder, store
from tests.payloads import agent_trace_spans, native_batch, new_trace_id
from tests.secrets_registry import remember_secret

ADMIN = "root@example.com"
ADMIN_PASSWORD = remember_secret("correct horse battery staple")
PASSWORD = remember_secret("a long enough password")
MARKER = "bsecret"  # in every name and payload of project B
REFUSALS = {"FORBIDDEN", "NOT_FOUND"}


def gid(type_name: str, node_id: str) -> str:
    return base64.b64encode(f"{type_name}:{node_id}".encode()).decode()


@dataclass
class World:
    http: httpx.AsyncClient
    app: Any
    b: dict[str, str]
    """Project B's ids and secrets."""
    callers: dict[str, str] = field(default_factory=dict)
    """Caller name -> bearer token (access token or API key), none of which may touch B."""


async def _graphql(http: httpx.AsyncClient, token: str, query: str, **variables: Any) -> Any:
    response = await http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def _token(http: httpx.AsyncClient, email: str, password: str) -> str:
    response = await http.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


@pytest.fixture(scope="module")
async def world(services: DevServices) -> AsyncIterator[World]:
    url = await fresh_database(services, "isolation")
    settings = Settings(database_url=url, admin_email=ADMIN, admin_password=ADMIN_PASSWORD)
    async with running_app(settings, Roles(query=True, ingest=True)) as (http, app):
        admin = await _token(http, ADMIN, ADMIN_PASSWORD)
        orgs = {}
        for name in ("a", "b"):
            created = await _graphql(
                http,
                admin,
                "mutation($n: String!) { createOrganization(name: $n) { id } }",
                n=f"org-{name}-{MARKER if name == 'b' else 'public'}",
            )
            orgs[name] = created["createOrganization"]["id"]
        projects = {}
        for name in ("a", "b"):
            created = await _graphql(
                http,
                admin,
                """mutation($n: String!, $o: ID) { createProject(name: $n, organizationId: $o)
                    { project { id } secret } }""",
                n=f"project-{name}-{MARKER if name == 'b' else 'public'}",
                o=orgs[name],
            )
            projects[name] = created["createProject"]
        b_key = projects["b"]["secret"]
        b_project = projects["b"]["project"]["id"]
        b_project_uuid = base64.b64decode(b_project).decode().split(":", 1)[1]

        trace = TraceBuilder(datetime.now(UTC))
        span = trace.span(f"{MARKER}-agent", kind="AGENT", input={"prompt": f"{MARKER}-in"})
        await store(app.state.engine, uuid.UUID(b_project_uuid), trace)
        found = await _graphql(
            http,
            b_key,
            "query($t: String!) { project { trace(traceId: $t) { id } } }",
            t=trace.trace_id,
        )
        b_trace = found["project"]["trace"]["id"]
        b_span = gid("Span", f"{b_project_uuid}:{trace.trace_id}:{span}")
        annotated = await _graphql(
            http,
            b_key,
            """mutation($t: ID!) { annotateTrace(traceId: $t,
                input: {name: "quality", score: 1, comment: "bsecret-note"}) { id } }""",
            t=b_trace,
        )
        b_key2 = await _graphql(
            http,
            b_key,
            "mutation($p: ID!) { createApiKey(projectId: $p, scopes: [READ]) {"
            " apiKey { id } secret } }",
            p=b_project,
        )
        admin_id = (await _graphql(http, admin, "{ viewer { principal } }"))["viewer"][
            "principal"
        ].split(":", 1)[1]
        b = {
            "org": orgs["b"],
            "project": b_project,
            "project_uuid": b_project_uuid,
            "trace": b_trace,
            "trace_hex": trace.trace_id,
            "span": b_span,
            "annotation": annotated["annotateTrace"]["id"],
            "key": b_key,
            "key2_id": b_key2["createApiKey"]["apiKey"]["id"],
            "key2": b_key2["createApiKey"]["secret"],
            "owner_id": admin_id,
        }
        world = World(http, app, b)

        # The callers: people in organisation A with each role, and A's keys.
        for role in ("viewer", "member", "admin", "owner"):
            email = f"{role}@a.example.com"
            await _graphql(
                http,
                admin,
                """mutation($e: String!, $p: String!, $o: ID!, $r: Role!) {
                    createUser(email: $e, password: $p, organizationId: $o, role: $r)
                    { userId } }""",
                e=email,
                p=PASSWORD,
                o=orgs["a"],
                r=role.upper(),
            )
            world.callers[f"person:{role}"] = await _token(http, email, PASSWORD)
        a_key = projects["a"]["secret"]
        world.callers["key:admin"] = a_key
        for scope in ("READ", "INGEST", "ANNOTATE"):
            made = await _graphql(
                http,
                a_key,
                "mutation($p: ID!, $s: [ApiKeyScope!]!) {"
                " createApiKey(projectId: $p, scopes: $s) { secret } }",
                p=projects["a"]["project"]["id"],
                s=[scope],
            )
            world.callers[f"key:{scope.lower()}"] = made["createApiKey"]["secret"]
        yield world


# GraphQL: one or more (document, variables) per root field, each aimed at project B.
Request = tuple[str, Callable[[dict[str, str]], dict[str, Any]]]
ANNOTATION = '{name: "hijack", score: 0, comment: "x"}'

QUERY_RULES: dict[str, list[Request]] = {
    "viewer": [("{ viewer { organizations { name projects { name } } } }", lambda b: {})],
    "projects": [("{ projects { name traceCount } }", lambda b: {})],
    "project": [
        (
            "query($id: ID!) { project(id: $id) { name traces(first: 5) { nodes { name } } } }",
            lambda b: {"id": b["project"]},
        )
    ],
    "node": [
        ("query($id: ID!) { node(id: $id) { id } }", lambda b, k=k: {"id": b[k]})  # type: ignore[misc]
        for k in ("project", "trace", "span", "annotation", "key2_id")
    ],
    "nodes": [
        (
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            lambda b: {"ids": [b[k] for k in ("project", "trace", "span", "annotation")]},
        )
    ],
}
MUTATION_RULES: dict[str, list[Request]] = {
    "createProject": [
        (
            'mutation($o: ID) { createProject(name: "intruder", organizationId: $o) { secret } }',
            lambda b: {"o": b["org"]},
        )
    ],
    "renameProject": [
        (
            'mutation($id: ID!) { renameProject(id: $id, name: "hijacked") { name } }',
            lambda b: {"id": b["project"]},
        )
    ],
    "deleteProject": [
        ("mutation($id: ID!) { deleteProject(id: $id) }", lambda b: {"id": b["project"]})
    ],
    "setModelPrice": [
        (
            'mutation($id: ID!) { setModelPrice(projectId: $id, price: {model: "m",'
            ' input: 1, output: 1, effectiveFrom: "2026-01-01"}) { model } }',
            lambda b: {"id": b["project"]},
        )
    ],
    "deleteModelPrice": [
        (
            'mutation($id: ID!) { deleteModelPrice(projectId: $id, model: "gpt-4o",'
            ' effectiveFrom: "2026-01-01") }',
            lambda b: {"id": b["project"]},
        )
    ],
    "setMaskingRules": [
        (
            "mutation($id: ID!) { setMaskingRules(projectId: $id, rules: []) { type } }",
            lambda b: {"id": b["project"]},
        )
    ],
    "setProjectRetention": [
        (
            "mutation($id: ID!) { setProjectRetention(projectId: $id, days: 1) { retentionDays } }",
            lambda b: {"id": b["project"]},
        )
    ],
    "exportProject": [
        (
            'mutation($id: ID!) { exportProject(projectId: $id, name: "hijack") { spanCount } }',
            lambda b: {"id": b["project"]},
        )
    ],
    "setProjectRateLimits": [
        (
            "mutation($id: ID!) { setProjectRateLimits(projectId: $id,"
            " ingestRequestsPerSecond: 1) { ingestRequestsPerSecond } }",
            lambda b: {"id": b["project"]},
        )
    ],
    "createApiKey": [
        (
            "mutation($p: ID!) { createApiKey(projectId: $p, scopes: [READ]) { secret } }",
            lambda b: {"p": b["project"]},
        )
    ],
    "revokeApiKey": [
        ("mutation($id: ID!) { revokeApiKey(id: $id) { id } }", lambda b: {"id": b["key2_id"]})
    ],
    "tagTrace": [
        (
            'mutation($t: ID!) { tagTrace(traceId: $t, add: ["hijacked"]) { tags } }',
            lambda b: {"t": b["trace"]},
        )
    ],
    "deleteTraces": [
        ("mutation($t: ID!) { deleteTraces(ids: [$t]) }", lambda b: {"t": b["trace"]})
    ],
    "annotateTrace": [
        (
            f"mutation($t: ID!) {{ annotateTrace(traceId: $t, input: {ANNOTATION}) {{ id }} }}",
            lambda b: {"t": b["trace"]},
        )
    ],
    "annotateSpan": [
        (
            f"mutation($s: ID!) {{ annotateSpan(spanId: $s, input: {ANNOTATION}) {{ id }} }}",
            lambda b: {"s": b["span"]},
        )
    ],
    "updateAnnotation": [
        (
            f"mutation($id: ID!) {{ updateAnnotation(id: $id, input: {ANNOTATION}) {{ id }} }}",
            lambda b: {"id": b["annotation"]},
        )
    ],
    "deleteAnnotation": [
        ("mutation($id: ID!) { deleteAnnotation(id: $id) }", lambda b: {"id": b["annotation"]})
    ],
    "createOrganization": [
        ('mutation { createOrganization(name: "intruder-org") { id } }', lambda b: {})
    ],
    "createUser": [
        (
            'mutation($o: ID!) { createUser(email: "intruder@example.com", password:'
            ' "an intruder\'s password", organizationId: $o, role: OWNER) { userId } }',
            lambda b: {"o": b["org"]},
        )
    ],
    "setMemberRole": [
        (
            "mutation($o: ID!) { setMemberRole(organizationId: $o,"
            ' email: "viewer@a.example.com", role: OWNER) { role } }',
            lambda b: {"o": b["org"]},
        )
    ],
    "removeMember": [
        (
            "mutation($o: ID!, $u: ID!) { removeMember(organizationId: $o, userId: $u) }",
            lambda b: {"o": b["org"], "u": b["owner_id"]},
        )
    ],
}
SUBSCRIPTION_RULES: dict[str, list[Request]] = {
    "traceUpdates": [
        (
            "subscription($p: ID) { traceUpdates(projectId: $p) { name } }",
            lambda b: {"p": b["project"]},
        )
    ],
    "traceSpans": [
        (
            "subscription($t: String!, $p: ID) { traceSpans(traceId: $t, projectId: $p) { name } }",
            lambda b: {"t": b["trace_hex"], "p": b["project"]},
        )
    ],
}

# REST: each route of the OpenAPI document, as a request aimed at project B.
RestRequest = Callable[
    [httpx.AsyncClient, dict[str, str], dict[str, str]], Awaitable[httpx.Response]
]


def _native_batch() -> bytes:
    t0 = 1_700_000_000_000_000_000
    return orjson.dumps(native_batch(new_trace_id(), agent_trace_spans(t0, 2, "intruder")))


REST_RULES: dict[tuple[str, str], tuple[RestRequest, set[int]]] = {
    ("GET", "/api/v1/traces"): (
        lambda h, b, auth: h.get(
            "/api/v1/traces", params={"project": b["project_uuid"]}, headers=auth
        ),
        {403, 404},
    ),
    ("GET", "/api/v1/traces/{trace_id}"): (
        lambda h, b, auth: h.get(
            f"/api/v1/traces/{b['trace_hex']}", params={"project": b["project_uuid"]}, headers=auth
        ),
        {403, 404},
    ),
    ("GET", "/api/v1/analytics"): (
        lambda h, b, auth: h.get(
            "/api/v1/analytics", params={"project": b["project_uuid"]}, headers=auth
        ),
        {403, 404},
    ),
    ("GET", "/api/v1/projects"): (
        lambda h, b, auth: h.get("/api/v1/projects", headers=auth),
        {200, 403},
    ),
    # Ingest writes only to the key's own project: nothing can be aimed at B.
    ("POST", "/api/v1/traces"): (
        lambda h, b, auth: h.post(
            "/api/v1/traces",
            content=_native_batch(),
            headers=auth | {"Content-Type": "application/json"},
        ),
        {200, 403},
    ),
    ("POST", "/v1/traces"): (
        lambda h, b, auth: h.post(
            "/v1/traces", content=b"", headers=auth | {"Content-Type": "application/x-protobuf"}
        ),
        {200, 403},
    ),
    ("GET", "/api/v1/auth/me"): (lambda h, b, auth: h.get("/api/v1/auth/me", headers=auth), {200}),
    ("POST", "/api/v1/auth/login"): (
        lambda h, b, auth: h.post(
            "/api/v1/auth/login", json={"email": ADMIN, "password": "a guess at the password"}
        ),
        {401},
    ),
    ("POST", "/api/v1/auth/refresh"): (
        lambda h, b, auth: h.post("/api/v1/auth/refresh", json={"refresh_token": "atr_guess"}),
        {401},
    ),
    ("POST", "/api/v1/auth/logout"): (
        lambda h, b, auth: h.post("/api/v1/auth/logout", json={"refresh_token": "atr_guess"}),
        {204},
    ),
    ("POST", "/api/v1/auth/password"): (
        lambda h, b, auth: h.post(
            "/api/v1/auth/password",
            json={"current_password": "a guess", "new_password": "a new long password"},
            headers=auth,
        ),
        {401, 403},
    ),
    ("GET", "/healthz"): (lambda h, b, auth: h.get("/healthz"), {200}),
    ("GET", "/readyz"): (lambda h, b, auth: h.get("/readyz"), {200, 503}),
    ("GET", "/metrics"): (lambda h, b, auth: h.get("/metrics"), {200}),
    # /graphql is the matrix above.
    ("GET", "/graphql"): (lambda h, b, auth: h.get("/graphql", headers=auth), {200, 400}),
    ("POST", "/graphql"): (
        lambda h, b, auth: h.post(
            "/graphql", json={"query": "{ projects { name } }"}, headers=auth
        ),
        {200},
    ),
}


def _root_fields(type_name: str) -> set[str]:
    definition = schema.get_type_by_name(type_name)
    assert isinstance(definition, StrawberryObjectDefinition)
    return {schema.config.name_converter.get_graphql_name(f) for f in definition.fields}


def test_every_field_and_route_has_an_isolation_rule(world: World) -> None:
    assert set(QUERY_RULES) == _root_fields("Query")
    assert set(MUTATION_RULES) == _root_fields("Mutation")
    assert set(SUBSCRIPTION_RULES) == _root_fields("Subscription")
    routes = {
        (method.upper(), path)
        for path, operations in world.app.openapi()["paths"].items()
        for method in operations
    }
    assert set(REST_RULES) == routes


def _no_trace_of_b(text: str, b: dict[str, str], where: str) -> None:
    assert MARKER not in text, f"{where} leaked project B's data: {text[:500]}"
    assert b["key"] not in text
    assert b["key2"] not in text


@pytest.mark.parametrize("kind", ["query", "mutation"])
async def test_no_caller_reaches_another_organizations_project_through_graphql(
    world: World, kind: str
) -> None:
    rules = QUERY_RULES if kind == "query" else MUTATION_RULES
    for caller, token in world.callers.items():
        for name, requests in rules.items():
            for document, variables in requests:
                response = await world.http.post(
                    "/graphql",
                    json={"query": document, "variables": variables(world.b)},
                    headers={"Authorization": f"Bearer {token}"},
                )
                where = f"{caller} {name}"
                assert response.status_code == 200, (where, response.text)
                _no_trace_of_b(response.text, world.b, where)
                body = response.json()
                for error in body.get("errors") or []:
                    code = (error.get("extensions") or {}).get("code")
                    assert code in REFUSALS, (where, error)
                if not body.get("errors"):
                    # An answer without error may only be "nothing": null, empty or zero.
                    value = next(iter(body["data"].values()))
                    assert value in (None, [], 0, [None] * 4) or name in ("viewer", "projects"), (
                        where,
                        body,
                    )
    await _b_is_untouched(world)


async def test_no_caller_subscribes_to_another_organizations_project(world: World) -> None:
    for caller, token in world.callers.items():
        for name, requests in SUBSCRIPTION_RULES.items():
            for document, variables in requests:
                result = await first_subscription_result(
                    world.app, token, document, variables(world.b)
                )
                where = f"{caller} {name}"
                assert result.errors, (where, result)
                codes = {(e.extensions or {}).get("code") for e in result.errors}
                assert codes <= REFUSALS, (where, result.errors)
                _no_trace_of_b(str(result.data) + str(result.errors), world.b, where)


async def test_no_caller_reaches_another_organizations_project_through_rest(
    world: World,
) -> None:
    for caller, token in world.callers.items():
        auth = {"Authorization": f"Bearer {token}"}
        for (method, path), (send, statuses) in REST_RULES.items():
            response = await send(world.http, world.b, auth)
            where = f"{caller} {method} {path}"
            assert response.status_code in statuses, (where, response.status_code, response.text)
            _no_trace_of_b(response.text, world.b, where)
            if response.status_code >= 400 and response.content:
                assert "error" in response.json() or "errors" in response.json(), where
    await _b_is_untouched(world)


async def _b_is_untouched(world: World) -> None:
    """Project B, read by its own key, is as it was: name, trace, tags, annotation, keys,
    limits, and its organisation's members."""
    data = await _graphql(
        world.http,
        world.b["key"],
        """query($t: String!) { project { name traceCount
             trace(traceId: $t) { tags annotations { comment } }
             apiKeys { id revokedAt } } }""",
        t=world.b["trace_hex"],
    )
    project = data["project"]
    assert project["name"] == f"project-b-{MARKER}"
    assert project["traceCount"] == 1
    assert project["trace"]["tags"] == []
    assert [a["comment"] for a in project["trace"]["annotations"]] == [f"{MARKER}-note"]
    assert all(k["revokedAt"] is None for k in project["apiKeys"])
    assert len(project["apiKeys"]) == 2
    admin = await _token(world.http, ADMIN, ADMIN_PASSWORD)
    orgs = await _graphql(
        world.http, admin, "{ viewer { organizations { name members { email role } } } }"
    )
    [b_org] = [o for o in orgs["viewer"]["organizations"] if MARKER in o["name"]]
    assert b_org["members"] == [{"email": ADMIN, "role": "OWNER"}]
