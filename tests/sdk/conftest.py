"""Fixtures for the SDK's tests: a recording sink for the pure tests, and a real
``agenttrace serve`` subprocess (embedded PostgreSQL, temp data dir) for the end-to-end ones."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import agenttrace_sdk
import pytest
from agenttrace_sdk import spans as spans_module
from agenttrace_sdk.spans import Runtime, Span, SpanSink

from tests.e2e.helpers import API_KEY, Api
from tests.processes import Process, free_port, wait_until


class RecordingSink(SpanSink):
    """Keeps started and ended spans in memory, in the order they ended."""

    def __init__(self) -> None:
        self.started: list[Span] = []
        self.ended: list[Span] = []

    def on_start(self, span: Span) -> None:
        self.started.append(span)

    def on_end(self, span: Span) -> None:
        self.ended.append(span)

    def by_name(self) -> dict[str, Span]:
        return {s.name: s for s in self.ended}


@pytest.fixture
def recorded() -> Iterator[RecordingSink]:
    sink = RecordingSink()
    previous = spans_module.install(Runtime(sink))
    yield sink
    spans_module.install(previous)


class Serve:
    """One ``agenttrace serve`` on a fixed port and data dir, which can be stopped and
    started again (the API key is printed on the first start only)."""

    def __init__(self, data_dir: Path, env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.env = env or {}
        """AGENTTRACE_* settings of the server."""
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process: Process | None = None
        self.api: Api | None = None

    def start(self) -> Api:
        self.process = Process(
            ["serve", "--port", str(self.port), "--data-dir", str(self.data_dir)],
            self.env,
            self.data_dir.parent / f"serve-{self.port}.log",
        )
        self.process.wait_healthy(self.base_url, timeout_s=120)
        if self.api is None:
            process = self.process
            wait_until(lambda: API_KEY.search(process.output()) is not None, 10, process.output)
            match = API_KEY.search(process.output())
            assert match is not None
            self.api = Api(self.base_url, match.group(0))
        return self.api

    def stop(self) -> None:
        assert self.process is not None
        exit_code = self.process.stop()
        assert exit_code in (0, -15), self.process.output()[-3000:]


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    for key in [k for k in os.environ if k.startswith("AGENTTRACE_")]:
        os.environ.pop(key)
    server = Serve(tmp_path_factory.mktemp("sdk-serve") / "data")
    server.start()
    yield server
    if server.api is not None:
        server.api.http.close()
    server.stop()


@pytest.fixture
def sdk(serve: Serve) -> Iterator[Api]:
    """The SDK initialised against the module's server, shut down after the test."""
    assert serve.api is not None
    agenttrace_sdk.init(api_key=serve.api.api_key, endpoint=serve.base_url, schedule_delay_s=0.1)
    yield serve.api
    agenttrace_sdk.shutdown(10)


def spans_by_name(trace: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in trace["spans"]}
