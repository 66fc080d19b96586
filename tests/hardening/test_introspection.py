"""GraphQL introspection: on by default (GraphiQL, codegen); off with
AGENTTRACE_GRAPHQL_INTROSPECTION=false, refused before anything runs; __typename works
either way."""

from __future__ import annotations

from typing import Any

import pytest

from tests.graph.conftest import GraphApi
from tests.hardening.conftest import Hardened

SCHEMA = "{ __schema { queryType { name } } }"
TYPE = '{ __type(name: "Trace") { name } }'
NESTED = '{ project { name } t: __type(name: "Query") { name } }'


async def test_introspection_is_on_by_default(graph_api: GraphApi) -> None:
    assert await graph_api.data(SCHEMA) == {"__schema": {"queryType": {"name": "Query"}}}
    assert await graph_api.data(TYPE) == {"__type": {"name": "Trace"}}


async def post(hardened: Hardened, query: str) -> dict[str, Any]:
    response = await hardened.http.post("/graphql", json={"query": query}, headers=hardened.auth)
    result: dict[str, Any] = response.json()
    return result


@pytest.mark.parametrize(
    ("query", "field"), [(SCHEMA, "__schema"), (TYPE, "__type"), (NESTED, "__type")]
)
async def test_introspection_switched_off_is_refused(
    hardened: Hardened, query: str, field: str
) -> None:
    result = await post(hardened, query)
    assert result.get("data") is None
    # One error per field that returns an introspection type, the root field first.
    messages = [error["message"] for error in result["errors"]]
    assert messages[0] == (
        "GraphQL introspection has been disabled, but the requested query contained the"
        f" field '{field}'."
    )
    assert all(m.startswith("GraphQL introspection has been disabled") for m in messages)


async def test_typename_and_ordinary_queries_work_without_introspection(
    hardened: Hardened,
) -> None:
    assert await post(hardened, "{ __typename }") == {"data": {"__typename": "Query"}}
    assert await post(hardened, "{ project { __typename name } }") == {
        "data": {"project": {"__typename": "Project", "name": "hardened"}}
    }
