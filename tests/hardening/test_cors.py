"""CORS: none by default (same origin only); with AGENTTRACE_CORS_ORIGINS, exactly those
origins, with the headers our clients send."""

from __future__ import annotations

import httpx
import pytest

from agenttrace.settings import Settings
from tests.graph.conftest import GraphApi
from tests.hardening.conftest import ALLOWED_ORIGIN, Hardened

PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, x-api-key, content-type",
}


def cors_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("access-control-")}


async def test_preflight_from_an_allowed_origin_gets_the_cors_headers(hardened: Hardened) -> None:
    response = await hardened.http.options(
        "/graphql", headers={"Origin": ALLOWED_ORIGIN, **PREFLIGHT}
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    allowed = {
        h.strip().lower() for h in response.headers["access-control-allow-headers"].split(",")
    }
    assert {"authorization", "x-api-key", "content-type"} <= allowed
    assert "POST" in response.headers["access-control-allow-methods"]
    # Keys and tokens are headers, never cookies: no credentialed CORS.
    assert "access-control-allow-credentials" not in response.headers
    # The preflight answer is a response too: it carries the security headers.
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_request_from_an_allowed_origin_may_read_the_answer(hardened: Hardened) -> None:
    response = await hardened.http.post(
        "/graphql",
        json={"query": "{ project { name } }"},
        headers={"Origin": ALLOWED_ORIGIN, **hardened.auth},
    )
    assert response.json() == {"data": {"project": {"name": "hardened"}}}
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "retry-after" in response.headers["access-control-expose-headers"].lower()


@pytest.mark.parametrize("origin", ["https://evil.example.com", "http://dashboard.example.com"])
async def test_another_origin_gets_no_cors_headers(hardened: Hardened, origin: str) -> None:
    preflight = await hardened.http.options("/graphql", headers={"Origin": origin, **PREFLIGHT})
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    request = await hardened.http.get("/healthz", headers={"Origin": origin})
    # Starlette adds Access-Control-Expose-Headers to every answer; without an allowed
    # origin it grants nothing.
    assert [h for h in cors_headers(request) if h.startswith("access-control-allow-")] == []


async def test_default_settings_send_no_cors_headers(graph_api: GraphApi) -> None:
    preflight = await graph_api.http.options(
        "/graphql", headers={"Origin": ALLOWED_ORIGIN, **PREFLIGHT}
    )
    assert cors_headers(preflight) == {}
    request = await graph_api.http.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"Origin": ALLOWED_ORIGIN, "Authorization": f"Bearer {graph_api.api_key}"},
    )
    assert request.status_code == 200
    assert cors_headers(request) == {}


@pytest.mark.parametrize(
    ("value", "origins"),
    [
        ("", []),
        ("https://a.example.com", ["https://a.example.com"]),
        (
            " https://a.example.com/ , http://localhost:5173",
            ["https://a.example.com", "http://localhost:5173"],
        ),
        (
            '["https://a.example.com", "http://[::1]:3000"]',
            ["https://a.example.com", "http://[::1]:3000"],
        ),
    ],
)
def test_cors_origins_setting_reads_a_list_or_json(
    monkeypatch: pytest.MonkeyPatch, value: str, origins: list[str]
) -> None:
    monkeypatch.setenv("AGENTTRACE_CORS_ORIGINS", value)
    assert Settings().cors_origins == origins


@pytest.mark.parametrize(
    "value", ["*", "null", "dashboard.example.com", "https://a.example.com/app"]
)
def test_cors_origins_setting_refuses_anything_but_origins(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("AGENTTRACE_CORS_ORIGINS", value)
    with pytest.raises(ValueError, match="must be scheme://host"):
        Settings()
