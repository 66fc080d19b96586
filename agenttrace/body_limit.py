"""A size limit on request bodies (GraphQL, REST), enforced before a body is in memory.

A declared ``Content-Length`` over the limit is refused before one byte of the body is
read; a body without one (chunked) is counted as it arrives and refused at the first
byte over. Either way: 413 with ``{"error": "..."}`` naming the limit and its setting.
Routes that enforce a limit of their own (ingest, with ``max_body_bytes`` and gzip) are
left to it.
"""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    """Raised from ``receive`` into the app once the body passed the limit."""


class BodySizeLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        setting: str,
        exempt: Iterable[tuple[str, str]] = (),
    ) -> None:
        """``exempt``: (method, path) pairs whose routes limit their own bodies."""
        self.app = app
        self.max_bytes = max_bytes
        self.message = f"request body exceeds the limit of {max_bytes} bytes ({setting})"
        self.exempt = frozenset(exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) in self.exempt:
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return

        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    exceeded = True
                    raise BodyTooLarge(self.message)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            # Whatever the app makes of the failed read (FastAPI answers 400, another
            # handler may answer 500) is replaced by the 413 below.
            if exceeded and not started:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = orjson.dumps({"error": self.message})
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    # The rest of the body is never read: do not reuse the connection.
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
