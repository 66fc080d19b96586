"""Small helpers for talking to a running AgentTrace in end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from tests.processes import Process, free_port, wait_until
from tests.secrets_registry import remember_secret

API_KEY = re.compile(r"\bat_[A-Za-z0-9_-]{20,}")


class Api:
    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url
        self.api_key = remember_secret(api_key)
        self.http = httpx.Client(base_url=base_url, timeout=30)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def post(self, path: str, content: bytes, content_type: str, **headers: str) -> httpx.Response:
        return self.http.post(
            path, content=content, headers=self.auth | {"content-type": content_type} | headers
        )

    def trace(self, trace_id: str) -> dict[str, Any] | None:
        response = self.http.get(f"/api/v1/traces/{trace_id}", headers=self.auth)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def wait_for_trace(
        self, trace_id: str, span_count: int, timeout_s: float = 60
    ) -> dict[str, Any]:
        found: dict[str, Any] = {}

        def ready() -> bool:
            trace = self.trace(trace_id)
            if (
                trace is not None
                and trace["span_count"] >= span_count
                and len(trace["spans"]) >= span_count
            ):
                found.update(trace)
                return True
            return False

        wait_until(
            ready,
            timeout_s,
            lambda: f"trace {trace_id} did not reach {span_count} spans: {self.trace(trace_id)}",
        )
        return found

    def trace_ids(self) -> set[str]:
        ids: set[str] = set()
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": 200} | ({"cursor": cursor} if cursor else {})
            page = self.http.get("/api/v1/traces", params=params, headers=self.auth).json()
            ids |= {item["trace_id"] for item in page["items"]}
            cursor = page["next_cursor"]
            if cursor is None:
                return ids


@dataclass
class Served:
    api: Api
    process: Process
    data_dir: Path


@contextmanager
def served(
    data_dir: Path, env: dict[str, str] | None = None, name: str = "serve"
) -> Iterator[Served]:
    """``agenttrace serve`` on a fresh ``data_dir`` with only ``env``'s AGENTTRACE_
    settings (the test process's own are cleared), its log in ``<name>.log`` beside the
    data dir; the API key its first start prints. Stopped at the end, where it must exit
    with 0 (a clean shutdown)."""
    port = free_port()
    for key in [k for k in os.environ if k.startswith("AGENTTRACE_")]:
        os.environ.pop(key)
    process = Process(
        ["serve", "--port", str(port), "--data-dir", str(data_dir)],
        env or {},
        data_dir.parent / f"{name}.log",
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        process.wait_healthy(base_url, timeout_s=120)
        wait_until(lambda: API_KEY.search(process.output()) is not None, 10, process.output)
        match = API_KEY.search(process.output())
        assert match is not None
        api = Api(base_url, match.group(0))
        yield Served(api, process, data_dir)
        api.http.close()
    except BaseException:
        process.stop()
        raise
    exit_code = process.stop()
    assert exit_code == 0, process.output()[-3000:]


def by_name(trace: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {span["name"]: span for span in trace["spans"]}


Result = dict[str, Any]


class Subscriber:
    """Results of one subscription as they arrive, with their arrival times."""

    def __init__(self) -> None:
        self.results: list[tuple[float, Result]] = []
        self.changed = asyncio.Event()

    async def until(self, done: Callable[[list[Result]], bool], timeout_s: float = 60) -> None:
        async with asyncio.timeout(timeout_s):
            while not done([r for _, r in self.results]):
                self.changed.clear()
                await self.changed.wait()


@asynccontextmanager
async def subscribed(
    url: str, api_key: str, query: str, variables: Result | None = None
) -> AsyncIterator[Subscriber]:
    subscriber = Subscriber()
    client = Client(
        transport=WebsocketsTransport(
            url=url,
            init_payload={"Authorization": f"Bearer {api_key}"},
            subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        )
    )

    async def collect() -> None:
        async with client as session:
            request = GraphQLRequest(query, variable_values=variables)
            async for result in session.subscribe(request):
                subscriber.results.append((time.monotonic(), result))
                subscriber.changed.set()

    task = asyncio.create_task(collect())
    try:
        yield subscriber
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
