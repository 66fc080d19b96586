"""The API serves the dashboard's build at /, deep links included, without shadowing the
API; and says how to build it when there is no build."""

from __future__ import annotations

from pathlib import Path

import httpx
from fastapi import FastAPI

from agenttrace.dashboard import mount_dashboard
from agenttrace.http_errors import install_error_handlers
from agenttrace.settings import Settings


def client_for(dist: Path) -> httpx.AsyncClient:
    app = FastAPI()
    install_error_handlers(app, Settings())

    @app.get("/api/v1/projects")
    async def projects() -> dict[str, list[str]]:
        return {"items": []}

    mount_dashboard(app, dist)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test")


def build(tmp_path: Path) -> Path:
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><div id=root></div>")
    (dist / "assets" / "index-abc123.js").write_text("console.log(1)")
    (tmp_path / "secret.txt").write_text("outside the build")
    return dist


async def test_deep_links_get_the_app_and_assets_are_cached_for_good(tmp_path: Path) -> None:
    async with client_for(build(tmp_path)) as http:
        for path in ("/", "/traces", "/traces/0af7651916cd43dd8448eb211c80319c", "/projects"):
            response = await http.get(path)
            assert response.status_code == 200, path
            assert response.text.startswith("<!doctype html>")
            assert response.headers["cache-control"] == "no-cache"
        asset = await http.get("/assets/index-abc123.js")
        assert asset.text == "console.log(1)"
        assert "immutable" in asset.headers["cache-control"]


async def test_the_api_is_not_shadowed_and_nothing_outside_the_build_is_served(
    tmp_path: Path,
) -> None:
    async with client_for(build(tmp_path)) as http:
        assert (await http.get("/api/v1/projects")).json() == {"items": []}
        missing = await http.get("/api/v1/nothing-here")
        assert missing.status_code == 404
        assert missing.json() == {"error": "no route /api/v1/nothing-here"}
        for path in ("/..%2Fsecret.txt", "/assets/..%2F..%2Fsecret.txt"):
            response = await http.get(path)
            assert "outside the build" not in response.text


async def test_without_a_build_the_root_says_how_to_make_one(tmp_path: Path) -> None:
    async with client_for(tmp_path / "missing") as http:
        response = await http.get("/")
        assert response.status_code == 200
        assert "scripts/start.sh" in response.text
