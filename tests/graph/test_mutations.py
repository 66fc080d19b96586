"""Mutations through real GraphQL: projects, API keys, trace tags and deletion, who may
use them, and that another project's ids behave as missing ones."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from strawberry.relay import to_base64
from strawberry.types.base import StrawberryObjectDefinition

from access.permissions import SCOPE_PERMISSIONS
from graph.schema import schema
from graph.types.ApiKeyScope import ApiKeyScope
from storage.projects import ALL_SCOPES, DEFAULT_SCOPES, create_project
from tests.graph.conftest import GraphApi
from tests.graph.seeding import TraceBuilder, store

MISSING_TRACE = "0123456789abcdef0123456789abcdef"


def error_of(result: dict[str, Any]) -> tuple[str, str | None]:
    """The one error's message and code."""
    assert len(result.get("errors") or []) == 1, result
    error = result["errors"][0]
    return error["message"], (error.get("extensions") or {}).get("code")


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def _project_id(api: GraphApi, api_key: str | None = None) -> str:
    result = await api.query("{ project { id } }", api_key=api_key)
    global_id: str = result["data"]["project"]["id"]
    return global_id


async def _trace(api: GraphApi, project_id: uuid.UUID, api_key: str, **span: Any) -> str:
    """Stores a one-span trace in the project; returns its global id."""
    trace = TraceBuilder(datetime(2026, 3, 1, tzinfo=UTC))
    trace.span("agent", kind="AGENT", **span)
    await store(api.engine, project_id, trace)
    result = await api.query(
        "query ($t: String!) { project { trace(traceId: $t) { id } } }",
        {"t": trace.trace_id},
        api_key=api_key,
    )
    global_id: str = result["data"]["project"]["trace"]["id"]
    return global_id


def test_every_mutation_field_has_permission_classes() -> None:
    mutation = schema.get_type_by_name("Mutation")
    assert isinstance(mutation, StrawberryObjectDefinition)
    unguarded = [f.python_name for f in mutation.fields if not f.permission_classes]
    assert mutation.fields
    assert unguarded == []


def test_api_key_scopes_are_the_permission_tables_scopes() -> None:
    assert {scope.value for scope in ApiKeyScope} == set(SCOPE_PERMISSIONS)
    assert set(ALL_SCOPES) == set(SCOPE_PERMISSIONS)


# Ids of the right type that name nothing: "UHJvamVjdDp4" is base64 of "Project:x", and so on.
READ_ONLY_REFUSALS = [
    ('mutation { createProject(name: "x") { secret } }', "create_projects"),
    ('mutation { renameProject(id: "UHJvamVjdDp4", name: "x") { name } }', "manage_project"),
    ('mutation { deleteProject(id: "UHJvamVjdDp4") }', "delete_project"),
    (
        'mutation { createApiKey(projectId: "UHJvamVjdDp4", scopes: [READ]) { secret } }',
        "manage_keys",
    ),
    ('mutation { revokeApiKey(id: "QXBpS2V5Ong=") { id } }', "manage_keys"),
    ('mutation { tagTrace(traceId: "VHJhY2U6eA==", add: ["a"]) { id } }', "tag_traces"),
    ('mutation { deleteTraces(ids: ["VHJhY2U6eA=="]) }', "delete_traces"),
    (
        'mutation { annotateTrace(traceId: "VHJhY2U6eA==", input: {name: "n", score: 1}) { id } }',
        "annotate",
    ),
    (
        'mutation { annotateSpan(spanId: "U3Bhbjp4", input: {name: "n", score: 1}) { id } }',
        "annotate",
    ),
    (
        'mutation { updateAnnotation(id: "QW5ub3RhdGlvbjp4", input: {name: "n", score: 1}) { id } }',
        "annotate",
    ),
    ('mutation { deleteAnnotation(id: "QW5ub3RhdGlvbjp4") }', "annotate"),
    ('mutation { createOrganization(name: "x") { id } }', None),
    ('mutation { createUser(email: "x@example.com") { userId } }', None),
    (
        'mutation { setMemberRole(organizationId: "x", email: "x@example.com", role: VIEWER)'
        " { email } }",
        "manage_members",
    ),
    ('mutation { removeMember(organizationId: "x", userId: "x") }', "manage_members"),
    (
        'mutation { setProjectRateLimits(projectId: "UHJvamVjdDp4") { ingestRequestsPerSecond } }',
        "manage_project",
    ),
    (
        'mutation { setModelPrice(projectId: "UHJvamVjdDp4", price: {model: "m", input: 1,'
        ' output: 1, effectiveFrom: "2026-01-01"}) { model } }',
        "manage_project",
    ),
    (
        'mutation { deleteModelPrice(projectId: "UHJvamVjdDp4", model: "m",'
        ' effectiveFrom: "2026-01-01") }',
        "manage_project",
    ),
    (
        'mutation { setMaskingRules(projectId: "UHJvamVjdDp4", rules: [{type: EMAIL}]) { type } }',
        "manage_project",
    ),
    (
        'mutation { setProjectRetention(projectId: "UHJvamVjdDp4", days: 1) { retentionDays } }',
        "manage_project",
    ),
    (
        'mutation { exportProject(projectId: "UHJvamVjdDp4", name: "x") { spanCount } }',
        "manage_project",
    ),
]


@pytest.mark.parametrize(("mutation", "permission"), READ_ONLY_REFUSALS)
async def test_read_only_key_is_refused_with_the_missing_permission(
    graph_api: GraphApi, mutation: str, permission: str | None
) -> None:
    reader = await create_project(graph_api.engine, _name("reader"), DEFAULT_SCOPES)
    result = await graph_api.query(mutation, api_key=reader.api_key)
    message, code = error_of(result)
    assert code == "FORBIDDEN"
    if permission is None:  # people and organisations: server administrators only
        assert message == "only a server administrator may do this"
    else:
        assert message == f"this API key lacks the permission '{permission}'"
    assert result["data"] is None


def test_refusals_cover_every_mutation() -> None:
    mutation = schema.get_type_by_name("Mutation")
    assert isinstance(mutation, StrawberryObjectDefinition)
    covered = {m.split("{")[1].split("(")[0].strip() for m, _ in READ_ONLY_REFUSALS}
    assert covered == {schema.config.name_converter.get_graphql_name(f) for f in mutation.fields}


async def test_created_project_comes_with_a_working_admin_key(graph_api: GraphApi) -> None:
    name = _name("created")
    data = await graph_api.data(
        """mutation ($name: String!) { createProject(name: $name) {
            project { id name traceCount } apiKey { id prefix scopes revokedAt } secret } }""",
        {"name": name},
    )
    created = data["createProject"]
    assert created["project"]["name"] == name
    assert created["project"]["traceCount"] == 0
    assert created["secret"].startswith(created["apiKey"]["prefix"])
    assert created["apiKey"]["scopes"] == ["ADMIN", "ANNOTATE", "INGEST", "READ"]
    assert created["apiKey"]["revokedAt"] is None
    own = await graph_api.query("{ project { id name } }", api_key=created["secret"])
    assert own == {"data": {"project": {"id": created["project"]["id"], "name": name}}}


async def test_a_taken_project_name_is_a_conflict(graph_api: GraphApi) -> None:
    result = await graph_api.query('mutation { createProject(name: "graph-tests") { secret } }')
    assert error_of(result) == (
        "a project named 'graph-tests' already exists; choose another name",
        "CONFLICT",
    )
    blank = await graph_api.query('mutation { createProject(name: "  ") { secret } }')
    assert error_of(blank) == ("name must not be empty", "INVALID_ARGUMENT")


async def test_rename_project_and_refuse_a_taken_name(graph_api: GraphApi) -> None:
    project = await create_project(graph_api.engine, _name("rename"), ALL_SCOPES)
    project_id = await _project_id(graph_api, project.api_key)
    new_name = _name("renamed")
    mutation = "mutation ($id: ID!, $n: String!) { renameProject(id: $id, name: $n) { name } }"
    renamed = await graph_api.query(mutation, {"id": project_id, "n": new_name}, project.api_key)
    assert renamed == {"data": {"renameProject": {"name": new_name}}}
    taken = await graph_api.query(
        mutation, {"id": project_id, "n": "graph-tests"}, api_key=project.api_key
    )
    assert error_of(taken)[1] == "CONFLICT"


async def test_another_projects_id_looks_missing_to_project_mutations(
    graph_api: GraphApi,
) -> None:
    theirs = await create_project(graph_api.engine, _name("theirs"), ALL_SCOPES)
    their_id = await _project_id(graph_api, theirs.api_key)
    missing_id = to_base64("Project", uuid.UUID(int=0))
    for project_id in (their_id, missing_id):
        rename = await graph_api.query(
            'mutation ($id: ID!) { renameProject(id: $id, name: "mine now") { name } }',
            {"id": project_id},
        )
        delete = await graph_api.query(
            "mutation ($id: ID!) { deleteProject(id: $id) }", {"id": project_id}
        )
        for result in (rename, delete):
            assert error_of(result) == (
                "no such project, or you may not do that there",
                "FORBIDDEN",
            )
    still = await graph_api.query("{ project { name } }", api_key=theirs.api_key)
    assert still["data"]["project"]["name"] == theirs.name


async def test_deleting_a_project_deletes_its_data_and_keys(graph_api: GraphApi) -> None:
    doomed = await create_project(graph_api.engine, _name("doomed"), ALL_SCOPES)
    trace_id = await _trace(graph_api, doomed.id, doomed.api_key)
    annotated = await graph_api.query(
        'mutation ($t: ID!) { annotateTrace(traceId: $t, input: {name: "q", score: 1}) { id } }',
        {"t": trace_id},
        api_key=doomed.api_key,
    )
    assert "errors" not in annotated
    project_id = await _project_id(graph_api, doomed.api_key)
    deleted = await graph_api.query(
        "mutation ($id: ID!) { deleteProject(id: $id) }", {"id": project_id}, doomed.api_key
    )
    assert deleted == {"data": {"deleteProject": project_id}}
    after = await graph_api.query("{ project { name } }", api_key=doomed.api_key)
    assert error_of(after) == ("invalid API key (unknown, revoked or expired)", "UNAUTHENTICATED")
    async with graph_api.engine.connect() as conn:
        for table in ("spans", "traces", "annotations", "api_keys"):
            left = await conn.scalar(
                text(f"SELECT count(*) FROM {table} WHERE project_id = :p"), {"p": doomed.id}
            )
            assert left == 0, table


async def test_api_key_made_by_mutation_works_until_revoked(graph_api: GraphApi) -> None:
    owner = await create_project(graph_api.engine, _name("keys"), ALL_SCOPES)
    project_id = await _project_id(graph_api, owner.api_key)
    created = await graph_api.query(
        """mutation ($p: ID!) { createApiKey(projectId: $p, scopes: [READ],
            expiresAt: "2100-01-01T00:00:00Z") {
            apiKey { id prefix scopes expiresAt revokedAt } secret } }""",
        {"p": project_id},
        api_key=owner.api_key,
    )
    payload = created["data"]["createApiKey"]
    key, secret = payload["apiKey"], payload["secret"]
    assert key["scopes"] == ["READ"]
    assert key["expiresAt"].startswith("2100-01-01")
    assert secret.startswith(key["prefix"])

    read = await graph_api.query("{ project { name } }", api_key=secret)
    assert read == {"data": {"project": {"name": owner.name}}}
    listed = await graph_api.query(
        "{ project { apiKeys { id prefix revokedAt } } }", api_key=owner.api_key
    )
    keys = listed["data"]["project"]["apiKeys"]
    assert keys[0]["id"] == key["id"]  # newest first
    assert len(keys) == 2
    assert secret not in str(listed)

    revoked = await graph_api.query(
        "mutation ($id: ID!) { revokeApiKey(id: $id) { id revokedAt } }",
        {"id": key["id"]},
        api_key=owner.api_key,
    )
    assert revoked["data"]["revokeApiKey"]["revokedAt"] is not None
    # At once, although the resolver had cached the key a moment ago.
    refused = await graph_api.query("{ project { name } }", api_key=secret)
    assert error_of(refused) == (
        "invalid API key (unknown, revoked or expired)",
        "UNAUTHENTICATED",
    )


async def test_api_keys_are_for_key_managers_only(graph_api: GraphApi) -> None:
    reader = await create_project(graph_api.engine, _name("reader"), DEFAULT_SCOPES)
    result = await graph_api.query("{ project { name apiKeys { id } } }", api_key=reader.api_key)
    assert error_of(result)[0] == "this API key lacks the permission 'manage_keys'"


async def test_create_api_key_checks_its_input(graph_api: GraphApi) -> None:
    project_id = await _project_id(graph_api)
    mutation = """mutation ($p: ID!, $s: [ApiKeyScope!]!, $e: DateTime) {
        createApiKey(projectId: $p, scopes: $s, expiresAt: $e) { secret } }"""
    no_scopes = await graph_api.query(mutation, {"p": project_id, "s": []})
    assert error_of(no_scopes) == ("scopes must name at least one scope", "INVALID_ARGUMENT")
    past = await graph_api.query(
        mutation, {"p": project_id, "s": ["READ"], "e": "2020-01-01T00:00:00Z"}
    )
    assert error_of(past) == ("expiresAt must be in the future", "INVALID_ARGUMENT")
    trace_id = await _trace(graph_api, graph_api.project_id, graph_api.api_key)
    wrong_type = await graph_api.query(mutation, {"p": trace_id, "s": ["READ"]})
    assert error_of(wrong_type) == (
        "projectId must be the id of a Project, not of a Trace",
        "INVALID_ARGUMENT",
    )


async def test_revoking_another_projects_key_looks_missing(graph_api: GraphApi) -> None:
    theirs = await create_project(graph_api.engine, _name("theirs"), ALL_SCOPES)
    their_keys = await graph_api.query("{ project { apiKeys { id } } }", api_key=theirs.api_key)
    their_key = their_keys["data"]["project"]["apiKeys"][0]["id"]
    result = await graph_api.query(
        "mutation ($id: ID!) { revokeApiKey(id: $id) { id } }", {"id": their_key}
    )
    assert error_of(result) == ("no such API key", "NOT_FOUND")
    still = await graph_api.query("{ project { name } }", api_key=theirs.api_key)
    assert still["data"]["project"]["name"] == theirs.name


TAG = """mutation ($t: ID!, $add: [String!], $remove: [String!]) {
    tagTrace(traceId: $t, add: $add, remove: $remove) { tags } }"""


async def test_manual_tags_survive_more_spans_of_the_trace(graph_api: GraphApi) -> None:
    trace = TraceBuilder(datetime(2026, 3, 2, tzinfo=UTC))
    trace.span("agent", kind="AGENT", tags=["from-span", "noisy"])
    await store(graph_api.engine, graph_api.project_id, trace)
    found = await graph_api.data(
        "query ($t: String!) { project { trace(traceId: $t) { id } } }", {"t": trace.trace_id}
    )
    trace_gid = found["project"]["trace"]["id"]

    tagged = await graph_api.data(
        TAG, {"t": trace_gid, "add": ["reviewed", "golden"], "remove": ["noisy"]}
    )
    assert tagged["tagTrace"]["tags"] == ["from-span", "golden", "reviewed"]

    # More of the trace arrives: the worker recomputes the trace's tags from its spans.
    more = TraceBuilder(datetime(2026, 3, 2, tzinfo=UTC))
    more.trace_id = trace.trace_id
    more.span("late tool", kind="TOOL", tags=["late", "noisy"])
    await store(graph_api.engine, graph_api.project_id, more)
    after = await graph_api.data(
        "query ($t: String!) { project { trace(traceId: $t) { tags spanCount } } }",
        {"t": trace.trace_id},
    )
    assert after["project"]["trace"] == {
        "tags": ["from-span", "golden", "late", "reviewed"],
        "spanCount": 2,
    }

    untagged = await graph_api.data(TAG, {"t": trace_gid, "remove": ["golden"], "add": ["noisy"]})
    assert untagged["tagTrace"]["tags"] == ["from-span", "late", "noisy", "reviewed"]
    filtered = await graph_api.data(
        """{ project { traces(filter: {tagsAll: ["reviewed", "noisy"]}) {
            nodes { traceId } } } }"""
    )
    assert [n["traceId"] for n in filtered["project"]["traces"]["nodes"]] == [trace.trace_id]


async def test_tag_trace_checks_its_input_and_hides_other_projects(graph_api: GraphApi) -> None:
    trace_id = await _trace(graph_api, graph_api.project_id, graph_api.api_key)
    both = await graph_api.query(TAG, {"t": trace_id, "add": ["x"], "remove": ["x"]})
    assert error_of(both) == ("tags both added and removed: x", "INVALID_ARGUMENT")
    empty = await graph_api.query(TAG, {"t": trace_id})
    assert error_of(empty) == ("give at least one tag to add or remove", "INVALID_ARGUMENT")
    blank = await graph_api.query(TAG, {"t": trace_id, "add": [" "]})
    assert error_of(blank) == ("add has an empty tag", "INVALID_ARGUMENT")

    other = await create_project(graph_api.engine, _name("tagger"), ALL_SCOPES)
    as_other = await graph_api.query(TAG, {"t": trace_id, "add": ["mine"]}, api_key=other.api_key)
    assert error_of(as_other) == ("no such trace", "NOT_FOUND")


async def test_delete_traces_deletes_spans_and_annotations_but_not_other_projects(
    graph_api: GraphApi,
) -> None:
    doomed = await _trace(graph_api, graph_api.project_id, graph_api.api_key)
    kept = await _trace(graph_api, graph_api.project_id, graph_api.api_key)
    await graph_api.data(
        """mutation ($t: ID!) { annotateTrace(traceId: $t, input: {name: "q", label: "bad"}) {
            id } }""",
        {"t": doomed},
    )
    other = await create_project(graph_api.engine, _name("theirs"), ALL_SCOPES)
    theirs = await _trace(graph_api, other.id, other.api_key)

    deleted = await graph_api.data(
        "mutation ($ids: [ID!]!) { deleteTraces(ids: $ids) }", {"ids": [doomed, theirs]}
    )
    assert deleted == {"deleteTraces": 1}
    nodes = await graph_api.data(
        "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": [doomed, kept]}
    )
    assert nodes["nodes"] == [None, {"id": kept}]
    still_theirs = await graph_api.query(
        "query ($id: ID!) { node(id: $id) { id } }", {"id": theirs}, api_key=other.api_key
    )
    assert still_theirs == {"data": {"node": {"id": theirs}}}
    async with graph_api.engine.connect() as conn:
        left = await conn.scalar(
            text(
                "SELECT (SELECT count(*) FROM spans s WHERE NOT EXISTS (SELECT 1 FROM traces t"
                " WHERE t.project_id = s.project_id AND t.trace_id = s.trace_id))"
                " + (SELECT count(*) FROM annotations WHERE name = 'q' AND label = 'bad')"
            )
        )
    assert left == 0

    missing = await graph_api.data(
        "mutation ($ids: [ID!]!) { deleteTraces(ids: $ids) }", {"ids": [doomed]}
    )
    assert missing == {"deleteTraces": 0}
