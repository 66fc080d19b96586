"""A longer fuzzing run than the suite's (tests/fuzz): the decoder properties, then
schemathesis over every operation of the OpenAPI document and hypothesis ingest bodies
against the real app (ingest, API and worker in this process) on throwaway PostgreSQL,
Kafka and Redis; prints a summary and exits non-zero on any problem.

    .venv/bin/python -m bench.fuzz --examples 200
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

import httpx

from agenttrace.apps import Roles, build_app
from agenttrace.settings import Settings
from devservices import DevServices
from storage.database import to_async_url
from storage.migrate import upgrade_async
from storage.projects import ALL_SCOPES, create_project
from tests.fuzz.api import (
    Findings,
    fuzz_ingest,
    fuzz_openapi,
    sender,
    span_problems,
    stored_spans,
)


async def run(services: DevServices, examples: int) -> int:
    url = to_async_url(services.database_url)  # the run's own throwaway server
    await upgrade_async(url)
    app = build_app(
        Settings(database_url=url, redis_url=services.redis_url),
        url,
        Roles(query=True, ingest=True, worker=True),
    )
    findings = Findings()
    async with app.router.lifespan_context(app):
        project = await create_project(app.state.engine, "fuzz", ALL_SCOPES)
        transport = httpx.ASGITransport(app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            send = sender(http, asyncio.get_running_loop())
            started = time.monotonic()
            operations = await asyncio.to_thread(
                fuzz_openapi, app.openapi(), send, project.api_key, examples, findings
            )
            await asyncio.to_thread(fuzz_ingest, send, project.api_key, examples * 5, findings)
            elapsed = time.monotonic() - started
        problems = findings.problems + span_problems(await stored_spans(app.state.engine), findings)
    print(f"operations fuzzed: {len(operations)} ({examples} examples each)")
    print(f"requests: {findings.requests} in {elapsed:.1f} s")
    print("statuses: " + ", ".join(f"{k}: {v}" for k, v in sorted(findings.by_status.items())))
    print(f"acknowledged valid spans checked in PostgreSQL: {len(findings.acknowledged)}")
    print(f"known deviations seen: {len(findings.known)}")
    print(f"problems: {len(problems)}")
    for problem in problems[:50]:
        print(f"  {problem[:500]}")
    return 1 if problems else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=200, help="examples per operation")
    args = parser.parse_args()
    with DevServices() as services:
        sys.exit(asyncio.run(run(services, args.examples)))


if __name__ == "__main__":
    main()
