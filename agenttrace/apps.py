"""The ASGI apps of ``serve``, ``ingest`` and ``api``, and the worker's run loop.

Each process is the same parts in a different combination: ``serve`` is all of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass

import structlog
from fastapi import FastAPI
from prometheus_client import start_http_server

from access.accounts import Accounts, ensure_first_admin
from access.authenticator import Authenticator
from access.login_guard import LoginGuard
from access.project_limits import ProjectLimitsResolver
from access.tokens import token_codec
from agenttrace import __version__, health
from agenttrace.analytics_process import analytics_worker
from agenttrace.dashboard import mount_dashboard
from agenttrace.http_errors import install_error_handlers
from agenttrace.http_hardening import install_http_hardening, own_body_limits
from agenttrace.runtime import Runtime, open_runtime
from agenttrace.settings import Settings
from graph.router import graphql_router
from ingest.rate_limits import IngestRateLimits
from ingest.routes import IngestService
from ingest.routes import router as ingest_router
from messaging import topics
from rest.analytics import router as analytics_router
from rest.auth import router as auth_router
from rest.traces import router as traces_router
from storage.database import wait_for_database
from storage.migrate import upgrade_async
from storage.projects import ALL_SCOPES, count_projects, create_project
from workers.retention import run_retention_forever
from workers.storage_worker import StorageWorker

log = structlog.get_logger(__name__)

DEFAULT_PROJECT = "default"


@dataclass(frozen=True, slots=True)
class Roles:
    ingest: bool = False
    query: bool = False
    worker: bool = False
    migrate: bool = False
    bootstrap_project: bool = False


def storage_worker(runtime: Runtime) -> StorageWorker:
    settings = runtime.settings
    return StorageWorker(
        engine=runtime.engine,
        bus=runtime.bus,
        consumer=runtime.bus.consumer(topics.SPANS, settings.kafka_consumer_group),
        live=runtime.live,
        cache=runtime.cache,
        batch_max_messages=settings.worker_batch_max_messages,
        batch_max_wait_ms=settings.worker_batch_max_wait_ms,
    )


async def retention_job(runtime: Runtime, stopping: asyncio.Event) -> None:
    """Deletes traces past their retention every AGENTTRACE_RETENTION_INTERVAL_S."""
    settings = runtime.settings
    await run_retention_forever(
        runtime.engine,
        settings.retention_days,
        settings.retention_interval_s,
        stopping,
        cache=runtime.cache,
    )


async def _bootstrap_default_project(runtime: Runtime) -> None:
    """On the very first start, a project to send to, and its key, printed once."""
    if await count_projects(runtime.engine) > 0:
        return
    # The operator's first key may do everything, so the README's tour needs no other.
    project = await create_project(runtime.engine, DEFAULT_PROJECT, ALL_SCOPES)
    s = runtime.settings
    base = f"http://{s.host}:{s.port}"
    print(
        f"\nCreated project '{project.name}'. Its API key (shown once, keep it):\n\n"
        f"    {project.api_key}\n\n"
        f"Send OpenTelemetry traces to it:\n\n"
        f"    export OTEL_EXPORTER_OTLP_TRACES_ENDPOINT={base}/v1/traces\n"
        f'    export OTEL_EXPORTER_OTLP_TRACES_HEADERS="Authorization=Bearer {project.api_key}"\n',
        flush=True,
    )


async def _bootstrap_first_admin(runtime: Runtime) -> None:
    """On a server without users, its first admin; a made-up password is printed once."""
    admin = await ensure_first_admin(runtime.engine, runtime.settings)
    if admin is None:
        return
    log.info("people.first_admin_created", email=admin.email)
    if admin.one_time_password is not None:
        print(
            f"\nCreated the administrator {admin.email} with the one-time password (shown"
            f" once; it must be changed at first login):\n\n    {admin.one_time_password}\n",
            flush=True,
        )


def build_app(settings: Settings, database_url: str, roles: Roles) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if roles.migrate:
            await upgrade_async(database_url)
        uses_bus = roles.ingest or roles.worker
        async with open_runtime(
            settings, database_url, need_bus=uses_bus, worker_in_process=roles.worker
        ) as runtime:
            app.state.settings = settings
            ingest_only = roles.ingest and not (roles.query or roles.worker)
            app.state.readiness_requires = ("bus",) if ingest_only else ("database", "bus")
            app.state.engine = runtime.engine
            app.state.query_engine = runtime.query_engine
            app.state.bus = runtime.bus if uses_bus else None
            app.state.live = runtime.live
            app.state.cache = runtime.cache
            app.state.rate_limiter = runtime.rate_limiter
            app.state.project_limits = ProjectLimitsResolver(runtime.engine, settings)
            app.state.ingest_limits = IngestRateLimits(
                runtime.rate_limiter, app.state.project_limits
            )
            await wait_for_database(runtime.engine)
            codec = await token_codec(settings, runtime.engine)
            app.state.auth = Authenticator(runtime.engine, codec)
            app.state.ingest = IngestService(settings, runtime.bus, app.state.auth)
            app.state.accounts = Accounts(
                runtime.engine,
                codec,
                settings,
                LoginGuard(
                    app.state.rate_limiter,
                    settings.login_failures_per_minute,
                    settings.login_failures_per_minute_per_ip,
                ),
            )
            if roles.bootstrap_project:
                await _bootstrap_default_project(runtime)
            # Where people log in (api, serve): not ingest, whose log would get the password.
            if roles.bootstrap_project or (roles.query and settings.admin_email is not None):
                await _bootstrap_first_admin(runtime)
            stopping = asyncio.Event()
            worker_task = (
                asyncio.create_task(storage_worker(runtime).run(stopping), name="storage-worker")
                if roles.worker
                else None
            )
            analytics_task = (
                asyncio.create_task(analytics_worker(runtime).run(stopping), name="analytics")
                if roles.worker
                else None
            )
            retention_task = (
                asyncio.create_task(retention_job(runtime, stopping), name="retention")
                if roles.worker
                else None
            )
            try:
                yield
            finally:
                stopping.set()
                if worker_task is not None:
                    await worker_task
                if analytics_task is not None:
                    await analytics_task
                if retention_task is not None:
                    await retention_task

    app = FastAPI(title="AgentTrace", version=__version__, lifespan=lifespan)
    install_error_handlers(app, settings)
    # Ingest routes limit their own bodies (max_body_bytes, after gzip too).
    install_http_hardening(
        app,
        settings,
        exempt_from_body_limit=own_body_limits(ingest_router.routes) if roles.ingest else (),
    )
    app.include_router(health.router)
    if roles.ingest:
        app.include_router(ingest_router)
    if roles.query:
        app.include_router(auth_router)
        app.include_router(traces_router)
        app.include_router(analytics_router)
        app.include_router(graphql_router())
        mount_dashboard(app)  # last: it answers every other GET path
    return app


async def run_worker(settings: Settings, database_url: str) -> None:
    """``agenttrace worker``: consumes until SIGINT or SIGTERM, finishing its batch."""
    import signal

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    if settings.worker_metrics_port:
        # prometheus-client's own small server, on a thread: the worker has no HTTP app.
        start_http_server(settings.worker_metrics_port, addr=settings.host)
    async with open_runtime(settings, database_url) as runtime:
        print(
            f"agenttrace worker consuming '{topics.SPANS}' as group "
            f"'{settings.kafka_consumer_group}'",
            file=sys.stderr,
            flush=True,
        )
        retention = asyncio.create_task(retention_job(runtime, stopping), name="retention")
        try:
            await storage_worker(runtime).run(stopping)
        finally:
            stopping.set()  # the storage worker's end (a signal or an error) ends the job too
            await retention
