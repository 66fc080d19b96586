"""The two servers of bench/phoenix.py, each started and stopped by the bench on loopback:
Arize Phoenix (``phoenix serve`` from .venv-phoenix, on its defaults: SQLite in a throwaway
working directory, no auth) and ``agenttrace serve`` (a fresh ``--data-dir``: embedded
PostgreSQL, the in-process bus).

Each answers the same questions for the bench: how many spans are queryable (through its
own GraphQL), a GraphQL request, its storage after VACUUM, the span ids it stored, and
the memory of its processes.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.live import API_KEY, Child, _embedded_database, _stop_leftover_postgres
from bench.processes import ROOT, BenchProcess, child_env, free_port

PHOENIX_VENV = ROOT / ".venv-phoenix"
PHOENIX_PYTHON = PHOENIX_VENV / "bin" / "python"
PHOENIX_PROJECT = "default"
"""Where Phoenix puts spans whose resource names no project (ours carry none)."""

PHOENIX_TRACE_TABLES = ("spans", "traces", "project_sessions", "span_costs", "span_cost_details")
"""Phoenix's tables that a span load fills: the spans, their traces and sessions, and the
cost it computes for each LLM span (with its per-token-type details)."""
AGENTTRACE_TRACE_TABLES = ("spans", "traces")

_PENDING_AT_STOP = re.compile(r"Span ingestion stopped with (\d+) spans still pending")
"""What Phoenix logs when its shutdown drain ends with spans still queued in memory."""


def phoenix_installed() -> bool:
    return (PHOENIX_VENV / "bin" / "phoenix").exists()


def phoenix_versions() -> tuple[str, str]:
    """Phoenix's version, and that of the SQLite it runs (sqlean's build)."""
    done = subprocess.run(
        [
            str(PHOENIX_PYTHON),
            "-c",
            "import importlib.metadata as m, sqlean;"
            " print(m.version('arize-phoenix'), sqlean.sqlite_version)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    phoenix_version, sqlite_version = done.stdout.split()
    return phoenix_version, sqlite_version


# --- processes and their memory (from /proc) --------------------------------------------


def _proc(pid: int, name: str) -> str:
    try:
        return Path(f"/proc/{pid}/{name}").read_text(errors="replace")
    except OSError:
        return ""


def children_of(pid: int) -> list[int]:
    """Every living descendant of ``pid``."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = _proc(int(entry), "stat")
            if stat:
                parent = int(stat.rsplit(")", 1)[1].split()[1])
                parents.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kib(pid: int, file: str, field_name: str) -> int:
    for line in _proc(pid, file).splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


@dataclass(frozen=True, slots=True)
class Memory:
    """Resident memory of a group of processes, in KiB: RSS summed over them (shared pages
    counted in each), and PSS (each shared page split between the processes mapping it)."""

    processes: int
    rss_kib: int
    pss_kib: int

    @classmethod
    def of(cls, pids: Sequence[int]) -> Memory:
        alive = [p for p in pids if _proc(p, "stat")]
        return cls(
            processes=len(alive),
            rss_kib=sum(_kib(p, "status", "VmRSS") for p in alive),
            pss_kib=sum(_kib(p, "smaps_rollup", "Pss") for p in alive),
        )


def cpu_seconds(pids: Sequence[int]) -> dict[int, float]:
    """User and system CPU time each of the processes (those alive) has used so far."""
    used = {}
    for pid in pids:
        stat = _proc(pid, "stat")
        if stat:
            fields = stat.rsplit(")", 1)[1].split()
            used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def cpu_used(before: Mapping[int, float], after: Mapping[int, float]) -> float:
    """CPU seconds between two ``cpu_seconds``: a process that started in between counts
    whole; one that ended in between is missed."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def _is_python(pid: int) -> bool:
    return "python" in _proc(pid, "cmdline").split("\0")[0].rsplit("/", 1)[-1]


# --- what the bench asks of a server -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Storage:
    trace_tables_bytes: int
    """The tables a span load fills (and their indexes), after VACUUM."""
    database_growth_bytes: int
    """The whole database after VACUUM, less the same measure taken right after start."""
    by_table: dict[str, int] = field(default_factory=dict)


class Server(Protocol):
    name: str
    base_url: str
    process: BenchProcess
    project_id: str

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def ingest_url(self) -> str: ...

    async def graphql(
        self, session: aiohttp.ClientSession, query: str, variables: Mapping[str, Any] | None = None
    ) -> Any: ...

    async def ready(self) -> None: ...

    async def span_count(self, session: aiohttp.ClientSession) -> int: ...

    async def storage(self) -> Storage: ...

    async def stored_span_ids(self) -> set[int]: ...

    async def stop_and_read_span_ids(self) -> set[int]: ...

    def dropped_at_stop(self) -> int | None:
        """Spans the stopped server's log says it dropped at shutdown, if it says."""
        ...

    def python_pids(self) -> list[int]:
        """The server's Python processes."""
        ...

    def database_pids(self) -> list[int]:
        """Its database's own processes (none for an in-process database)."""
        ...


class GraphQLFailed(RuntimeError):
    pass


async def _graphql(
    session: aiohttp.ClientSession,
    url: str,
    headers: Mapping[str, str],
    query: str,
    variables: Mapping[str, Any] | None,
) -> Any:
    """The ``data`` of a GraphQL answer; GraphQLFailed on a non-200 or any error."""
    body = orjson.dumps({"query": query, "variables": dict(variables or {})})
    async with session.post(
        url, data=body, headers={**headers, "content-type": "application/json"}
    ) as response:
        raw = await response.read()
    payload = orjson.loads(raw) if raw[:1] == b"{" else None
    if response.status != 200 or payload is None or payload.get("errors"):
        raise GraphQLFailed(f"{url}: {response.status} {raw[:500]!r}")
    return payload["data"]


@dataclass(slots=True)
class PhoenixServer:
    process: BenchProcess
    base_url: str
    working_dir: Path
    name: str = "Arize Phoenix"
    headers: Mapping[str, str] = field(default_factory=dict)
    empty_database_bytes: int = 0
    project_id: str = ""
    """The GraphQL id of the project ``default`` (once it has spans)."""

    @property
    def ingest_url(self) -> str:
        return f"{self.base_url}/v1/traces"

    @property
    def database_path(self) -> Path:
        return self.working_dir / "phoenix.db"

    async def graphql(
        self, session: aiohttp.ClientSession, query: str, variables: Mapping[str, Any] | None = None
    ) -> Any:
        return await _graphql(session, f"{self.base_url}/graphql", self.headers, query, variables)

    async def span_count(self, session: aiohttp.ClientSession) -> int:
        data = await self.graphql(
            session, "query SpanCount { projects { edges { node { id name recordCount } } } }"
        )
        nodes = [edge["node"] for edge in data["projects"]["edges"]]
        for node in nodes:
            if node["name"] == PHOENIX_PROJECT:
                self.project_id = node["id"]
        return sum(int(node["recordCount"]) for node in nodes)

    def _vacuumed(self) -> sqlite3.Connection:
        """A connection to Phoenix's database after a checkpoint and VACUUM (Phoenix is
        idle: the bench waits until every span is queryable)."""
        connection = sqlite3.connect(self.database_path, timeout=60, isolation_level=None)
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("VACUUM")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return connection

    def _database_bytes(self, connection: sqlite3.Connection) -> int:
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        free = connection.execute("PRAGMA freelist_count").fetchone()[0]
        size: int = connection.execute("PRAGMA page_size").fetchone()[0]
        return int((pages - free) * size)

    def _measure_empty(self) -> None:
        connection = self._vacuumed()
        try:
            self.empty_database_bytes = self._database_bytes(connection)
        finally:
            connection.close()

    async def ready(self) -> None:
        """Healthy, and its empty database measured."""
        await self.process.wait_healthy(self.base_url, timeout_s=180)
        await asyncio.to_thread(self._measure_empty)

    def _storage(self) -> Storage:
        connection = self._vacuumed()
        try:
            # dbstat: the pages of each table and index; an index counts for its table.
            owner = dict(connection.execute("SELECT name, tbl_name FROM sqlite_schema").fetchall())
            by_table: dict[str, int] = {}
            for name, size in connection.execute(
                "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"
            ):
                table = owner.get(name, name)
                if table in PHOENIX_TRACE_TABLES:
                    by_table[table] = by_table.get(table, 0) + int(size)
            total = self._database_bytes(connection)
        finally:
            connection.close()
        return Storage(sum(by_table.values()), total - self.empty_database_bytes, by_table)

    async def storage(self) -> Storage:
        return await asyncio.to_thread(self._storage)

    def _span_ids(self) -> set[int]:
        connection = sqlite3.connect(self.database_path, timeout=60)
        try:
            return {int(row[0], 16) for row in connection.execute("SELECT span_id FROM spans")}
        finally:
            connection.close()

    async def stored_span_ids(self) -> set[int]:
        return await asyncio.to_thread(self._span_ids)

    async def stop_and_read_span_ids(self) -> set[int]:
        """Stops Phoenix gracefully (SIGTERM: its shutdown writes what it can of its queue
        of spans), then reads its database file."""
        await self.process.stop(timeout_s=60)
        return await self.stored_span_ids()

    def dropped_at_stop(self) -> int | None:
        found = _PENDING_AT_STOP.findall(self.process.output())
        return int(found[-1]) if found else None

    def python_pids(self) -> list[int]:
        pids = [self.process.popen.pid, *children_of(self.process.popen.pid)]
        return [p for p in pids if _is_python(p)]

    def database_pids(self) -> list[int]:
        return []  # SQLite runs inside Phoenix's own process


@dataclass(slots=True)
class AgentTraceServer:
    process: BenchProcess
    base_url: str
    data_dir: Path
    api_key: str = ""
    name: str = "AgentTrace"
    empty_database_bytes: int = 0
    project_id: str = ""

    @property
    def headers(self) -> Mapping[str, str]:
        return {"authorization": f"Bearer {self.api_key}"}

    @property
    def ingest_url(self) -> str:
        return f"{self.base_url}/v1/traces"

    async def graphql(
        self, session: aiohttp.ClientSession, query: str, variables: Mapping[str, Any] | None = None
    ) -> Any:
        return await _graphql(session, f"{self.base_url}/graphql", self.headers, query, variables)

    async def span_count(self, session: aiohttp.ClientSession) -> int:
        data = await self.graphql(session, "query SpanCount { project { id spanCount } }")
        self.project_id = data["project"]["id"]
        return int(data["project"]["spanCount"])

    @asynccontextmanager
    async def _database(self) -> AsyncIterator[Any]:
        engine = create_async_engine(
            _embedded_database(self.data_dir), pool_size=1, isolation_level="AUTOCOMMIT"
        )
        try:
            async with engine.connect() as connection:
                yield connection
        finally:
            await engine.dispose()

    async def _database_bytes(self, connection: Any) -> int:
        return int(
            (await connection.execute(text("SELECT pg_database_size(current_database())"))).scalar()
        )

    async def ready(self) -> None:
        """Healthy, its API key read, and its empty database measured."""
        await self.process.wait_healthy(self.base_url, timeout_s=180)
        self.api_key = await self.process.wait_output(API_KEY)
        async with self._database() as connection:
            await connection.execute(text("VACUUM"))
            self.empty_database_bytes = await self._database_bytes(connection)

    async def storage(self) -> Storage:
        async with self._database() as connection:
            await connection.execute(text("VACUUM"))
            by_table = {
                table: int(
                    (
                        await connection.execute(
                            text("SELECT pg_total_relation_size(CAST(:t AS regclass))"),
                            {"t": table},
                        )
                    ).scalar()
                )
                for table in AGENTTRACE_TRACE_TABLES
            }
            total = await self._database_bytes(connection)
        return Storage(sum(by_table.values()), total - self.empty_database_bytes, by_table)

    async def durability(self) -> str:
        """The embedded PostgreSQL's fsync and synchronous_commit, e.g. ``on/on``."""
        async with self._database() as connection:
            fsync = (await connection.execute(text("SHOW fsync"))).scalar()
            commit = (await connection.execute(text("SHOW synchronous_commit"))).scalar()
        return f"fsync {fsync}, synchronous_commit {commit}"

    async def stored_span_ids(self) -> set[int]:
        async with self._database() as connection:
            rows = await connection.execute(text("SELECT span_id FROM spans"))
            # span_id is a bigint: the 64 bits of the OTLP id, read as signed.
            return {int(row[0]) & 0xFFFF_FFFF_FFFF_FFFF for row in rows}

    async def stop_and_read_span_ids(self) -> set[int]:
        """Reads the span ids (acknowledged spans not stored yet would still be in the
        embedded bus's table, durable), then stops the server."""
        ids = await self.stored_span_ids()
        await self.process.stop()
        return ids

    def _postmaster(self) -> int | None:
        try:
            return int((self.data_dir / "postgres" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def dropped_at_stop(self) -> int | None:
        return None  # nothing acknowledged is in memory only

    def database_pids(self) -> list[int]:
        postmaster = self._postmaster()
        return [] if postmaster is None else [postmaster, *children_of(postmaster)]

    def python_pids(self) -> list[int]:
        postgres = set(self.database_pids())
        pids = [self.process.popen.pid, *children_of(self.process.popen.pid)]
        return [p for p in pids if p not in postgres and _is_python(p)]


# --- starting them ------------------------------------------------------------------------


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The bench's environment without settings for either product or the OTel SDK, so
    each server runs on its defaults."""
    env = child_env()
    for name in list(env):
        if name.startswith(("PHOENIX_", "OTEL_")):
            del env[name]
    return env | dict(extra)


@asynccontextmanager
async def phoenix(log_dir: Path) -> AsyncIterator[PhoenixServer]:
    """``phoenix serve`` on free loopback ports, its SQLite database in a throwaway working
    directory, telemetry and fetches from the internet off; stopped (SIGTERM) and deleted
    at the end. Started, not yet ready: ``await server.ready()``."""
    if not phoenix_installed():
        raise RuntimeError(f"no {PHOENIX_VENV}: run scripts/bootstrap.sh dev")
    working_dir = Path(tempfile.mkdtemp(prefix="bench-phoenix-"))
    port = free_port()
    env = clean_env(
        {
            "PHOENIX_WORKING_DIR": str(working_dir),
            "PHOENIX_HOST": "127.0.0.1",
            "PHOENIX_PORT": str(port),
            "PHOENIX_GRPC_PORT": str(free_port()),
            "PHOENIX_TELEMETRY_ENABLED": "false",
            "PHOENIX_ALLOW_EXTERNAL_RESOURCES": "false",
        }
    )
    process = BenchProcess(
        "phoenix", [str(PHOENIX_VENV / "bin" / "phoenix"), "serve"], env, log_dir
    )
    try:
        yield PhoenixServer(process, f"http://127.0.0.1:{port}", working_dir)
    finally:
        await process.stop()
        shutil.rmtree(working_dir, ignore_errors=True)


@asynccontextmanager
async def agenttrace(log_dir: Path) -> AsyncIterator[AgentTraceServer]:
    """``agenttrace serve`` on a free loopback port and a fresh ``--data-dir`` (embedded
    PostgreSQL); stopped and deleted at the end. Started, not yet ready: ``await
    server.ready()`` (which also reads the API key its first start prints)."""
    data_dir = Path(tempfile.mkdtemp(prefix="bench-phoenix-agenttrace-"))
    port = free_port()
    args = ["serve", "--port", str(port), "--data-dir", str(data_dir)]
    process = Child("serve", args, clean_env({}), log_dir)
    try:
        yield AgentTraceServer(process, f"http://127.0.0.1:{port}", data_dir)
    finally:
        await process.stop()
        _stop_leftover_postgres(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)
