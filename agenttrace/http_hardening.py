"""The HTTP hardening of the api and serve apps, in one place: CORS (only for the origins
an operator names), security headers on every response, and request body limits.

See docs/security.md, "Hardening", for what each one protects against.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import BaseRoute, Route

from agenttrace.body_limit import BodySizeLimit
from agenttrace.security_headers import SecurityHeaders, security_headers
from agenttrace.settings import Settings

GRAPHIQL_PATH = "/graphql"

CORS_HEADERS = ["Authorization", "x-api-key", "content-type"]
"""What a browser client may send: credentials are headers, never cookies."""
CORS_EXPOSED = ["Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"]
"""What a browser client may read besides the basics: when to come back after a 429/503."""


def own_body_limits(routes: Iterable[BaseRoute]) -> set[tuple[str, str]]:
    """The (method, path) pairs of ``routes``, for routes that limit their bodies."""
    return {
        (method, route.path)
        for route in routes
        if isinstance(route, Route)
        for method in route.methods or ()
    }


def install_http_hardening(
    app: FastAPI, settings: Settings, *, exempt_from_body_limit: Iterable[tuple[str, str]] = ()
) -> None:
    """Adds the middleware to ``app``. Starlette runs the last added first, so a request
    meets: security headers, then CORS (a preflight is answered there, with the security
    headers too), then the body limit (its 413 carries both), then the routes."""
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_api_body_bytes,
        setting="AGENTTRACE_MAX_API_BODY_BYTES",
        exempt=exempt_from_body_limit,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=CORS_HEADERS,
            expose_headers=CORS_EXPOSED,
            # Credentials here mean cookies and TLS client certificates; we use neither
            # (keys and tokens travel in headers, which CORS governs by allow_headers).
            allow_credentials=False,
            max_age=600,
        )
    tool_pages = [
        path
        for path in (GRAPHIQL_PATH, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url)
        if path is not None
    ]
    app.add_middleware(SecurityHeaders, behind_https=settings.behind_https, tool_pages=tool_pages)

    async def internal_error(request: Request, exc: Exception) -> Response:
        # Starlette sends this from ServerErrorMiddleware, outside every middleware
        # above: without this handler a 500 would go out with no security headers.
        return PlainTextResponse(
            "Internal Server Error",
            status_code=500,
            headers=security_headers(
                request.headers.get("host"), behind_https=settings.behind_https
            ),
        )

    app.add_exception_handler(Exception, internal_error)
