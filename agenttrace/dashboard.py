"""The dashboard's built files (dashboard/dist, made by ``npm run build``) at ``/``.

Any other GET path that is not the API's answers with index.html, so a deep link such as
``/traces/<id>`` works on reload; the browser-side router takes it from there. Hashed
assets are cached for a year, index.html never (a new build shows at the next load).
Without a build, ``/`` says how to make one instead of a bare 404.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse, Response

from agenttrace.errors import NotFound

DIST = Path(__file__).resolve().parents[1] / "dashboard" / "dist"
API_PREFIXES = (
    "api/",
    "v1/",
    "graphql",
    "healthz",
    "readyz",
    "metrics",
    "docs",
    "redoc",
    "openapi",
)
NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>AgentTrace</title>
<body style="font-family: system-ui; padding: 48px">
<h1>AgentTrace</h1>
<p>The API is running, but the dashboard is not built. Run <code>scripts/start.sh</code>
(it builds it), or <code>npm ci &amp;&amp; npm run build</code> in <code>dashboard/</code>.</p>
<p>GraphQL: <a href="/graphql">/graphql</a> · REST: <a href="/docs">/docs</a></p>
</body>"""


def mount_dashboard(app: FastAPI, dist: Path = DIST) -> None:
    root = dist.resolve()

    @app.get("/{path:path}", include_in_schema=False)
    async def dashboard(path: str) -> Response:
        if path.startswith(API_PREFIXES):
            raise NotFound(f"no route /{path}")
        index = root / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT)
        if path:
            wanted = (root / path).resolve()
            if wanted.is_relative_to(root) and wanted.is_file():
                immutable = wanted.parent.name == "assets"
                cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
                return FileResponse(wanted, headers={"Cache-Control": cache})
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
