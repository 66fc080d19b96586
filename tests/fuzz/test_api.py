"""schemathesis and hypothesis against the real app in this process (ingest, query API
and the storage worker, on a fresh PostgreSQL database and the session's Redis): no 5xx,
every 4xx a JSON body with an "error" string, and afterwards no garbage in PostgreSQL and
every acknowledged valid span stored. Fixed seed, a few examples per operation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from agenttrace.apps import Roles, build_app
from agenttrace.settings import Settings
from devservices import DevServices
from storage.projects import ALL_SCOPES, create_project
from tests.databases import fresh_database
from tests.fuzz.api import (
    Findings,
    Send,
    fuzz_ingest,
    fuzz_openapi,
    sender,
    span_problems,
    stored_spans,
)
from tests.secrets_registry import remember_secret

EXAMPLES_PER_OPERATION = 8
INGEST_EXAMPLES = 60


@dataclass
class FuzzTarget:
    app: FastAPI
    send: Send
    api_key: str

    @property
    def engine(self) -> AsyncEngine:
        engine: AsyncEngine = self.app.state.engine
        return engine


@pytest.fixture(scope="module")
async def target(services: DevServices) -> AsyncIterator[FuzzTarget]:
    url = await fresh_database(services, "fuzz")
    settings = Settings(database_url=url, redis_url=services.redis_url)
    app = build_app(settings, url, Roles(query=True, ingest=True, worker=True))
    async with app.router.lifespan_context(app):
        project = await create_project(app.state.engine, "fuzz", ALL_SCOPES)
        # An unhandled exception becomes the 500 a client would see, and fuzzing goes on.
        transport = httpx.ASGITransport(app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            send = sender(http, asyncio.get_running_loop())
            yield FuzzTarget(app, send, remember_secret(project.api_key))


async def test_openapi_operations_and_ingest_bodies(target: FuzzTarget) -> None:
    findings = Findings()
    document = target.app.openapi()
    operations = await asyncio.to_thread(
        fuzz_openapi, document, target.send, target.api_key, EXAMPLES_PER_OPERATION, findings
    )
    await asyncio.to_thread(fuzz_ingest, target.send, target.api_key, INGEST_EXAMPLES, findings)
    assert len(operations) == sum(len(ops) for ops in document["paths"].values())
    problems = findings.problems + span_problems(await stored_spans(target.engine), findings)
    assert not problems, "\n".join(problems[:40])
