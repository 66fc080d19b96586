"""How errors reach HTTP clients, in one place: every UserError as its status with
``{"error": "..."}``, request validation the same way, and an unavailable bus as 503
with Retry-After so clients retry instead of losing data."""

from __future__ import annotations

import structlog
from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from agenttrace.errors import RateLimited, Unavailable, UserError
from agenttrace.settings import Settings
from messaging.bus import BusUnavailable

log = structlog.get_logger(__name__)


def _validation_message(exc: RequestValidationError) -> str:
    problems = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "query")
        problems.append(f"{where}: {error.get('msg', 'invalid')}" if where else error["msg"])
    return "; ".join(problems) or "invalid request"


def install_error_handlers(app: FastAPI, settings: Settings) -> None:
    async def on_user_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, UserError)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        if isinstance(exc, RateLimited | Unavailable):
            headers = exc.headers  # Retry-After (and X-RateLimit-*)
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=headers)

    async def on_invalid_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse({"error": _validation_message(exc)}, status_code=422)

    async def on_bus_unavailable(request: Request, exc: Exception) -> Response:
        log.warning("ingest.bus_unavailable", error=str(exc))
        return JSONResponse(
            {"error": "the queue is unavailable; nothing was stored, retry later"},
            status_code=503,
            headers={"Retry-After": str(settings.retry_after_s)},
        )

    app.add_exception_handler(UserError, on_user_error)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(BusUnavailable, on_bus_unavailable)
