"""GraphQL and REST bodies over AGENTTRACE_MAX_API_BODY_BYTES get 413 naming the limit,
whether the size is declared (Content-Length) or only counted (chunked), without the
body being read into memory; ingest keeps its own limit."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
import pytest
from starlette.types import Message, Receive, Scope, Send

from agenttrace.body_limit import BodySizeLimit
from agenttrace.http_hardening import own_body_limits
from ingest.routes import router as ingest_router
from tests.hardening.conftest import MAX_API_BODY, Hardened

LIMIT_ERROR = {
    "error": f"request body exceeds the limit of {MAX_API_BODY} bytes (AGENTTRACE_MAX_API_BODY_BYTES)"
}


def graphql_body(size: int) -> bytes:
    """A GraphQL request of exactly ``size`` bytes (a long comment makes up the size)."""
    head, tail = b'{"query": "{ __typename } #', b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


async def chunked(body: bytes, chunk: int = 1024) -> AsyncIterator[bytes]:
    """The body as a stream: httpx sends it chunked, with no Content-Length."""
    for start in range(0, len(body), chunk):
        yield body[start : start + chunk]


async def test_a_body_at_the_limit_is_served(hardened: Hardened) -> None:
    body = graphql_body(MAX_API_BODY)
    headers = {"content-type": "application/json", **hardened.auth}
    declared = await hardened.http.post("/graphql", content=body, headers=headers)
    assert declared.json() == {"data": {"__typename": "Query"}}
    streamed = await hardened.http.post("/graphql", content=chunked(body), headers=headers)
    assert streamed.json() == {"data": {"__typename": "Query"}}


async def test_a_declared_graphql_body_over_the_limit_is_refused(hardened: Hardened) -> None:
    response = await hardened.http.post(
        "/graphql",
        content=graphql_body(MAX_API_BODY + 1),
        headers={"content-type": "application/json", **hardened.auth},
    )
    assert response.status_code == 413
    assert response.json() == LIMIT_ERROR
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_chunked_graphql_body_over_the_limit_is_refused(hardened: Hardened) -> None:
    request = hardened.http.build_request(
        "POST",
        "/graphql",
        content=chunked(graphql_body(10 * MAX_API_BODY)),
        headers={"content-type": "application/json", **hardened.auth},
    )
    assert "content-length" not in request.headers
    assert request.headers["transfer-encoding"] == "chunked"
    response = await hardened.http.send(request)
    assert response.status_code == 413
    assert response.json() == LIMIT_ERROR


@pytest.mark.parametrize("declared", [True, False])
async def test_a_rest_body_over_the_limit_is_refused(hardened: Hardened, declared: bool) -> None:
    # The login route reads a JSON body (a GET that never reads its body costs nothing).
    body = b'{"email": "a@example.com", "password": "' + b"x" * MAX_API_BODY + b'"}'
    response = await hardened.http.post(
        "/api/v1/auth/login",
        content=body if declared else chunked(body),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json() == LIMIT_ERROR


class Reader:
    """An app that reads its whole body, and a client that counts what was taken."""

    def __init__(self, chunks: int, chunk_size: int) -> None:
        self.left = chunks
        self.chunk_size = chunk_size
        self.taken = 0
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        self.taken += 1
        self.left -= 1
        return {"type": "http.request", "body": b"x" * self.chunk_size, "more_body": self.left > 0}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"read it all"})


def http_scope(path: str, headers: list[tuple[bytes, bytes]]) -> Scope:
    return {"type": "http", "method": "POST", "path": path, "headers": headers}


async def test_a_declared_size_over_the_limit_is_refused_before_reading() -> None:
    client = Reader(chunks=100, chunk_size=1000)
    limited = BodySizeLimit(client.app, max_bytes=1000, setting="LIMIT")
    await limited(
        http_scope("/graphql", [(b"content-length", b"100000")]), client.receive, client.send
    )
    assert client.taken == 0
    assert client.sent[0]["status"] == 413
    assert orjson.loads(client.sent[1]["body"]) == {
        "error": "request body exceeds the limit of 1000 bytes (LIMIT)"
    }


async def test_a_chunked_body_is_read_only_up_to_the_limit() -> None:
    client = Reader(chunks=100, chunk_size=1000)
    limited = BodySizeLimit(client.app, max_bytes=2500, setting="LIMIT")
    await limited(http_scope("/graphql", []), client.receive, client.send)
    assert client.taken == 3  # 3000 bytes: the first chunk past 2500 ends the read
    assert [m.get("status") for m in client.sent] == [413, None]


async def test_routes_with_their_own_limit_are_left_to_it() -> None:
    exempt = own_body_limits(ingest_router.routes)
    assert exempt == {("POST", "/v1/traces"), ("POST", "/api/v1/traces")}
    client = Reader(chunks=100, chunk_size=1000)
    limited = BodySizeLimit(client.app, max_bytes=1000, setting="LIMIT", exempt=exempt)
    await limited(http_scope("/v1/traces", []), client.receive, client.send)
    assert client.taken == 100
    assert client.sent[0]["status"] == 200
