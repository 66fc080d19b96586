"""Security headers on every HTTP response of the api and serve apps.

A pure ASGI middleware: Starlette's BaseHTTPMiddleware runs the app behind a memory
stream in a task of its own (streaming responses and background tasks have suffered from
it) and does not see WebSockets at all; this one only adds to ``http.response.start``.

Two Content-Security-Policies:

- ``APP``: every response but the tool pages: the dashboard (a React app served from
  this origin) and the API's JSON. Scripts only from this origin; network only to this
  origin, over HTTP and WebSocket (GraphQL subscriptions). ``style-src 'unsafe-inline'``
  because React style props and chart libraries (they write ``style`` attributes and
  inject ``<style>`` elements) need it; an injected style can restyle a page but not run
  code, and scripts stay locked to our own files.
- ``TOOLS``: the HTML of the third-party pages we serve: GraphiQL (strawberry, ``GET
  /graphql`` in a browser), Swagger UI (``/docs``) and ReDoc (``/redoc``). They load
  React, GraphiQL and their stylesheets from CDNs (pinned by Subresource Integrity in
  GraphiQL's case) and boot from an inline script, so APP would leave them blank. Their
  policy allows those CDNs, and inline scripts only by hash: the hashes are taken from
  the page itself as it is sent, so an upgrade of strawberry or FastAPI cannot silently
  break them, while markup injected later (say, through data shown in GraphiQL) still
  cannot run. These pages hold no data of ours in their HTML; what they fetch is the API,
  with the caller's own key.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

FRAME_AND_BASE = "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
APP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src {connect}; " + FRAME_AND_BASE
)
TOOLS = (
    "default-src 'self'; script-src 'self' https://unpkg.com https://cdn.jsdelivr.net{hashes}; "
    "style-src 'self' 'unsafe-inline' https://unpkg.com https://cdn.jsdelivr.net "
    "https://fonts.googleapis.com; img-src 'self' data: https://fastapi.tiangolo.com; "
    "font-src 'self' data: https://fonts.gstatic.com; worker-src 'self' blob:; "
    "connect-src {connect}; " + FRAME_AND_BASE
)
HSTS = "max-age=31536000"
"""One year, this host only: includeSubDomains would bind the operator's other hosts."""

# A Host header we may echo into connect-src: a name or bracketed IPv6, optional port.
# Anything else (a ';' would add a directive) falls back to 'self' alone.
_HOST = re.compile(r"([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?")
_INLINE_SCRIPT = re.compile(
    rb"<script\b(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL
)


def inline_script_hashes(html: bytes) -> list[str]:
    """CSP hash sources (``'sha256-...'``) of the page's inline scripts."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    ]


def security_headers(
    host: str | None, *, behind_https: bool, tool_hashes: list[str] | None = None
) -> dict[str, str]:
    """The headers for a response to a request for ``host`` (its Host header);
    ``tool_hashes`` (possibly empty) selects the tool pages' policy."""
    sources = ["'self'"]
    if host is not None and _HOST.fullmatch(host):
        # CSP3 browsers let 'self' cover ws(s) to this host; older Safari needs them named.
        sources += [f"wss://{host}"] if behind_https else [f"ws://{host}", f"wss://{host}"]
    connect = " ".join(sources)
    policy = (
        APP.format(connect=connect)
        if tool_hashes is None
        else TOOLS.format(connect=connect, hashes="".join(f" {h}" for h in tool_hashes))
    )
    headers = {
        "content-security-policy": policy,
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
    }
    if behind_https:
        headers["strict-transport-security"] = HSTS
    return headers


class SecurityHeaders:
    """Adds the headers to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp, *, behind_https: bool, tool_pages: Iterable[str]) -> None:
        """``tool_pages``: paths whose HTML responses get the TOOLS policy."""
        self.app = app
        self.behind_https = behind_https
        self.tool_pages = frozenset(tool_pages)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host")
        is_tool_page = scope["path"] in self.tool_pages
        behind_https = self.behind_https
        held: Message | None = None
        body: list[bytes] = []

        async def send_with_headers(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                content_type = Headers(raw=message.get("headers", [])).get("content-type", "")
                if is_tool_page and content_type.startswith("text/html"):
                    held = message  # sent with the page, once its inline scripts are hashed
                    return
                await send(
                    self._with_headers(message, security_headers(host, behind_https=behind_https))
                )
            elif held is not None and message["type"] == "http.response.body":
                body.append(message.get("body", b""))
                if not message.get("more_body", False):
                    page = b"".join(body)
                    hashes = inline_script_hashes(page)
                    headers = security_headers(host, behind_https=behind_https, tool_hashes=hashes)
                    await send(self._with_headers(held, headers))
                    await send({"type": "http.response.body", "body": page})
            else:
                await send(message)

        await self.app(scope, receive, send_with_headers)

    @staticmethod
    def _with_headers(start: Message, headers: dict[str, str]) -> Message:
        raw: list[tuple[bytes, bytes]] = list(start.get("headers", []))
        present = {name.lower() for name, _ in raw}
        raw += [
            (name.encode(), value.encode())
            for name, value in headers.items()
            if name.encode() not in present
        ]
        return {**start, "headers": raw}
