"""The distributed topology as plain processes: migrate, one ingest, two workers, on real
Kafka, PostgreSQL and Redis from devservices."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import orjson

from devservices import DevServices
from tests.e2e.helpers import Api
from tests.log_audit import Kind, record_output
from tests.processes import AGENTTRACE, ROOT, Process, free_port


@dataclass
class Cluster:
    services: DevServices
    env: dict[str, str]
    log_dir: Path
    ingest_api: Api
    """Talks to ``agenttrace ingest``."""
    read_api: Api
    """Talks to ``agenttrace api``."""
    project_id: str
    ingest: Process
    api: Process
    workers: list[Process] = field(default_factory=list)

    def start_worker(self, name: str) -> Process:
        worker = Process(["worker"], self.env, self.log_dir / f"{name}.log")
        self.workers.append(worker)
        return worker

    def query(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async def run() -> list[asyncpg.Record]:
            conn = await asyncpg.connect(self.services.database_url)
            try:
                return list(await conn.fetch(sql, *args))
            finally:
                await conn.close()

        return asyncio.run(run())


def run_cli(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [*AGENTTRACE, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    command = " ".join(["agenttrace", *args])
    record_output(f"{command} (stderr)", done.stderr, Kind.LOG)
    record_output(f"{command} (stdout)", done.stdout, Kind.TERMINAL)
    assert done.returncode == 0, done.stderr
    return done.stdout


@contextmanager
def cluster(
    services: DevServices, log_dir: Path, project: str, extra_env: dict[str, str] | None = None
) -> Iterator[Cluster]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTTRACE_")}
    env |= services.env | {"PYTHONUNBUFFERED": "1", "XDG_RUNTIME_DIR": "/tmp"} | (extra_env or {})
    run_cli(["migrate"], env)
    created = orjson.loads(run_cli(["project", "create", project, "--json"], env))
    ingest_port, api_port = free_port(), free_port()
    ingest = Process(["ingest", "--port", str(ingest_port)], env, log_dir / "ingest.log")
    api = Process(["api", "--port", str(api_port)], env, log_dir / "api.log")
    ingest_api = Api(f"http://127.0.0.1:{ingest_port}", created["api_key"])
    read_api = Api(f"http://127.0.0.1:{api_port}", created["api_key"])
    result = Cluster(services, env, log_dir, ingest_api, read_api, created["id"], ingest, api)
    try:
        ingest.wait_healthy(ingest_api.base_url)
        api.wait_healthy(read_api.base_url)
        yield result
    finally:
        ingest_api.http.close()
        read_api.http.close()
        for process in [ingest, api, *result.workers]:
            process.stop()
        print(f"cluster logs in {log_dir}", file=sys.stderr)
