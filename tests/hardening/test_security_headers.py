"""Security headers on every HTTP response of the api/serve app; the tool pages (GraphiQL,
Swagger UI, ReDoc) get a policy that lets them load, with their inline scripts pinned by
hash."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Response
from fastapi.responses import StreamingResponse

from agenttrace.http_hardening import install_http_hardening
from agenttrace.security_headers import HSTS
from agenttrace.settings import Settings
from tests.graph.conftest import GraphApi
from tests.hardening.conftest import Hardened

# (method, path, body): the health check, REST (refused without a key), GraphQL over HTTP
# (refused without a key), the OpenAPI document, and a path nothing serves (the dashboard
# is not built yet; its pages will come through the same middleware).
RESPONSES = [
    ("GET", "/healthz", None),
    ("GET", "/api/v1/traces", None),
    ("POST", "/graphql", {"query": "{ __typename }"}),
    ("GET", "/openapi.json", None),
    ("GET", "/traces/0123", None),
]


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def assert_common_headers(response: httpx.Response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    policy = directives(response.headers["content-security-policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]


@pytest.mark.parametrize(("method", "path", "body"), RESPONSES)
async def test_every_response_carries_the_security_headers(
    graph_api: GraphApi, method: str, path: str, body: dict[str, str] | None
) -> None:
    response = await graph_api.http.request(method, path, json=body)
    assert_common_headers(response)
    policy = directives(response.headers["content-security-policy"])
    # The dashboard's policy: our own scripts only; GraphQL over HTTP and WebSocket to
    # this host only; inline styles for React style props and chart libraries.
    assert policy["script-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'", "ws://test", "wss://test"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    # Plain HTTP: no HSTS, which would lock browsers out of a server without TLS.
    assert "strict-transport-security" not in response.headers


async def test_behind_https_adds_hsts_and_drops_plain_websockets(hardened: Hardened) -> None:
    response = await hardened.http.get("/healthz")
    assert_common_headers(response)
    assert response.headers["strict-transport-security"] == HSTS
    policy = directives(response.headers["content-security-policy"])
    assert policy["connect-src"] == ["'self'", "wss://test"]


async def test_a_strange_host_header_is_not_echoed_into_the_policy(graph_api: GraphApi) -> None:
    response = await graph_api.http.get("/healthz", headers={"Host": "x; script-src *"})
    assert directives(response.headers["content-security-policy"])["connect-src"] == ["'self'"]


def inline_script_hashes(html: str) -> set[str]:
    scripts = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, re.S)
    return {
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in scripts
    }


@pytest.mark.parametrize(
    ("path", "cdn"),
    [("/graphql", "https://unpkg.com"), ("/docs", "https://cdn.jsdelivr.net")],
)
async def test_tool_pages_may_load_their_cdn_and_only_their_own_inline_scripts(
    graph_api: GraphApi, path: str, cdn: str
) -> None:
    response = await graph_api.http.get(path, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert_common_headers(response)
    script_src = directives(response.headers["content-security-policy"])["script-src"]
    assert cdn in script_src
    hashes = inline_script_hashes(response.text)
    assert hashes, "the page boots from an inline script"
    assert hashes <= set(script_src)
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src


async def test_graphql_json_answers_keep_the_strict_policy(graph_api: GraphApi) -> None:
    response = await graph_api.http.get(
        "/graphql", params={"query": "{ __typename }"}, headers={"Accept": "application/json"}
    )
    assert response.json() == {"data": {"__typename": "Query"}}
    assert directives(response.headers["content-security-policy"])["script-src"] == ["'self'"]


def small_app() -> FastAPI:
    app = FastAPI()
    install_http_hardening(app, Settings())

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for i in range(3):
                yield f"chunk {i}\n".encode()

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/own-policy")
    async def own_policy() -> Response:
        return Response("ok", headers={"Content-Security-Policy": "sandbox"})

    return app


async def test_an_unhandled_error_still_carries_the_headers() -> None:
    # Starlette answers a 500 outside every middleware; the handler adds them.
    transport = httpx.ASGITransport(small_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/boom")
    assert response.status_code == 500
    assert response.text == "Internal Server Error"
    assert_common_headers(response)


async def test_a_streamed_response_streams_with_the_headers() -> None:
    transport = httpx.ASGITransport(small_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/stream")
    assert response.text == "chunk 0\nchunk 1\nchunk 2\n"
    assert_common_headers(response)


async def test_a_response_that_sets_a_header_keeps_its_own() -> None:
    transport = httpx.ASGITransport(small_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        response = await http.get("/own-policy")
    assert response.headers.get_list("content-security-policy") == ["sandbox"]
    assert response.headers["x-frame-options"] == "DENY"
