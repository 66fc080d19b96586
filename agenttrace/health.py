"""``/healthz`` (the process is alive), ``/readyz`` (its dependencies answer) and
``/metrics`` (Prometheus)."""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    checks: dict[str, Any] = {}
    try:
        async with request.app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except (DBAPIError, OSError) as exc:
        checks["database"] = f"unavailable: {exc.__class__.__name__}"
    bus = getattr(request.app.state, "bus", None)
    if bus is not None:
        checks["bus"] = "ok" if await bus.ping() else "unavailable"
    # Ingest alone needs only the bus to accept data (keys it saw lately keep working while
    # PostgreSQL is down), so a database outage must not take it out of its load balancer.
    required = getattr(request.app.state, "readiness_requires", tuple(checks))
    ready = all(checks.get(name, "ok") == "ok" for name in required)
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics", summary="Prometheus metrics of this process")
async def metrics() -> Response:
    """This process's metrics. Under a multi-process server (PROMETHEUS_MULTIPROC_DIR set,
    as prometheus-client documents), every process's, merged. Labels never name a project
    or hold data: the endpoint is safe to scrape without credentials on an internal port."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
