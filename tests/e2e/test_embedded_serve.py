"""`agenttrace serve` on embedded defaults, as a real subprocess: what a new user runs."""

from __future__ import annotations

import asyncio
import gzip
import os
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from opentelemetry import trace as otel_trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from tests.e2e.helpers import API_KEY, Api, by_name, subscribed
from tests.payloads import (
    agent_trace_spans,
    native_batch,
    new_span_id,
    new_trace_id,
    otlp_json,
    otlp_request,
    otlp_span,
)
from tests.processes import Process, free_port, wait_until

MAX_BODY = 256 * 1024


@pytest.fixture(scope="module")
def serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    data_dir = tmp_path_factory.mktemp("serve-data")
    port = free_port()
    for key in [k for k in os.environ if k.startswith("AGENTTRACE_")]:
        os.environ.pop(key)
    process = Process(
        ["serve", "--port", str(port), "--data-dir", str(data_dir)],
        {"AGENTTRACE_MAX_BODY_BYTES": str(MAX_BODY)},
        data_dir.parent / "serve.log",
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        process.wait_healthy(base_url, timeout_s=120)
        wait_until(lambda: API_KEY.search(process.output()) is not None, 10, process.output)
        match = API_KEY.search(process.output())
        assert match is not None
        api = Api(base_url, match.group(0))
        yield api
        api.http.close()
    finally:
        exit_code = process.stop()
    assert exit_code == 0, process.output()[-3000:]
    assert "Application shutdown complete" in process.output()
    # The embedded PostgreSQL stopped with the server (it removes its pid file on exit).
    assert not (data_dir / "postgres" / "postmaster.pid").exists()


def test_first_start_prints_key_and_otlp_endpoint(serve: Api) -> None:
    response = serve.http.get("/readyz")
    assert response.json() == {"ready": True, "checks": {"database": "ok", "bus": "ok"}}


def test_the_new_key_is_shown_to_the_operator_and_never_logged(
    serve: Api, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The key goes to stdout, once, as a display; stderr is the log, which the session's
    log audit (tests/log_audit.py) requires to be free of secrets."""
    log = tmp_path_factory.getbasetemp() / "serve.log"
    printed = log.with_name("serve.log.stdout").read_text()
    logged = log.read_text()
    assert printed.count(f"    {serve.api_key}\n") == 1
    assert "Application startup complete" in logged
    assert serve.api_key not in logged


def test_stock_otel_exporter_spans_are_stored_as_a_tree(serve: Api) -> None:
    provider = TracerProvider(
        resource=Resource.create({"service.name": "agent", "deployment.environment": "test"})
    )
    provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(endpoint=f"{serve.base_url}/v1/traces", headers=serve.auth)
        )
    )
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span(
        "agent", attributes={"openinference.span.kind": "AGENT"}
    ) as root:
        with tracer.start_as_current_span(
            "chat gpt-4o",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.usage.input_tokens": 120,
                "gen_ai.usage.output_tokens": 30,
            },
        ):
            pass
        with tracer.start_as_current_span(
            "search", attributes={"traceloop.span.kind": "tool"}
        ) as tool:
            tool.set_status(otel_trace.Status(otel_trace.StatusCode.ERROR, "tool failed"))
        trace_id = format(root.get_span_context().trace_id, "032x")
        root_id = format(root.get_span_context().span_id, "016x")
    provider.shutdown()

    trace = serve.wait_for_trace(trace_id, 3)
    spans = by_name(trace)
    assert spans["agent"]["parent_span_id"] is None
    assert spans["agent"]["span_id"] == root_id
    assert spans["agent"]["kind"] == "AGENT"
    assert spans["chat gpt-4o"]["parent_span_id"] == root_id
    assert spans["chat gpt-4o"]["kind"] == "LLM"
    assert spans["chat gpt-4o"]["model"] == "gpt-4o"
    assert (spans["chat gpt-4o"]["input_tokens"], spans["chat gpt-4o"]["output_tokens"]) == (
        120,
        30,
    )
    assert spans["search"]["kind"] == "TOOL"
    assert spans["search"]["status"] == "ERROR"
    assert spans["search"]["status_message"] == "tool failed"
    assert trace["trace_id"] == trace_id
    assert (trace["span_count"], trace["error_count"], trace["total_tokens"]) == (3, 1, 150)
    assert trace["status"] == "ERROR"
    assert trace["environment"] == "test"


def test_otlp_json_export_is_stored(serve: Api) -> None:
    trace_id, root, child = new_trace_id(), new_span_id(), new_span_id()
    body = otlp_json(
        trace_id,
        [
            {"span_id": root, "name": "chain", "attributes": {"openinference.span.kind": "CHAIN"}},
            {
                "span_id": child,
                "parent": root,
                "name": "llm",
                "attributes": {
                    "openinference.span.kind": "LLM",
                    "llm.model_name": "claude-3",
                    "llm.token_count.prompt": 7,
                    "llm.token_count.completion": 3,
                },
            },
        ],
    )
    response = serve.post("/v1/traces", orjson.dumps(body), "application/json")
    assert response.status_code == 200, response.text
    trace = serve.wait_for_trace(trace_id, 2)
    spans = by_name(trace)
    assert spans["llm"]["parent_span_id"] == root
    assert spans["llm"]["model"] == "claude-3"
    assert spans["llm"]["total_tokens"] == 10
    assert spans["chain"]["kind"] == "CHAIN"
    assert spans["chain"]["status"] == "OK"


def test_gzip_protobuf_export_is_stored(serve: Api) -> None:
    trace_id, span_id = new_trace_id(), new_span_id()
    body = gzip.compress(
        otlp_request([otlp_span(trace_id, span_id, name="zipped")]).SerializeToString()
    )
    response = serve.post(
        "/v1/traces", body, "application/x-protobuf", **{"content-encoding": "gzip"}
    )
    assert response.status_code == 200, response.text
    assert by_name(serve.wait_for_trace(trace_id, 1))["zipped"]["span_id"] == span_id


def test_native_batch_applies_trace_fields_to_spans(serve: Api) -> None:
    trace_id, root, llm = new_trace_id(), new_span_id(), new_span_id()
    batch = native_batch(
        trace_id,
        [
            {
                "span_id": root,
                "name": "agent",
                "kind": "AGENT",
                "start_time": "2026-01-01T00:00:00Z",
                "end_time": "2026-01-01T00:00:02Z",
                "status": "OK",
            },
            {
                "span_id": llm,
                "parent_span_id": root,
                "name": "llm",
                "kind": "LLM",
                "model": "gpt-4o-mini",
                "start_time": "2026-01-01T00:00:00.5Z",
                "end_time": "2026-01-01T00:00:01Z",
                "input_tokens": 11,
                "output_tokens": 4,
                "cost": 0.25,
                "input": [{"role": "user", "content": "hi"}],
                "output": "hello",
            },
        ],
        user_id="user-1",
        session_id="session-1",
        tags=["beta"],
        metadata={"team": "search"},
    )
    response = serve.post("/api/v1/traces", orjson.dumps(batch), "application/json")
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 2, "rejected": []}
    trace = serve.wait_for_trace(trace_id, 2)
    assert (trace["user_id"], trace["session_id"], trace["tags"]) == (
        "user-1",
        "session-1",
        ["beta"],
    )
    assert trace["metadata"] == {"team": "search"}
    assert trace["duration_ms"] == pytest.approx(2000)
    assert (trace["total_tokens"], trace["cost"]) == (15, pytest.approx(0.25))
    assert by_name(trace)["llm"]["input"] == [{"role": "user", "content": "hi"}]


def test_duplicate_batch_is_stored_once_with_unchanged_aggregates(serve: Api) -> None:
    trace_id, root, llm = new_trace_id(), new_span_id(), new_span_id()
    body = otlp_request(
        [
            otlp_span(trace_id, root, name="agent"),
            otlp_span(
                trace_id,
                llm,
                parent=root,
                name="llm",
                attributes={"openinference.span.kind": "LLM", "llm.token_count.total": 42},
            ),
        ]
    ).SerializeToString()
    assert serve.post("/v1/traces", body, "application/x-protobuf").status_code == 200
    first = serve.wait_for_trace(trace_id, 2)
    assert serve.post("/v1/traces", body, "application/x-protobuf").status_code == 200
    # A marker trace sent after the duplicate: once it is stored, so is the duplicate.
    marker = new_trace_id()
    serve.post(
        "/v1/traces",
        otlp_request([otlp_span(marker, new_span_id())]).SerializeToString(),
        "application/x-protobuf",
    )
    serve.wait_for_trace(marker, 1)
    again = serve.trace(trace_id)
    assert again is not None
    assert len(again["spans"]) == 2
    assert (again["span_count"], again["total_tokens"]) == (2, 42)
    assert again["spans"] == first["spans"]


def test_child_before_parent_and_end_before_start_build_the_right_tree(serve: Api) -> None:
    trace_id, root, child = new_trace_id(), new_span_id(), new_span_id()
    t0 = time.time_ns()
    # The child arrives first.
    child_span = {
        "span_id": child,
        "parent_span_id": root,
        "name": "tool",
        "kind": "TOOL",
        "start_time": t0 + 1_000,
        "end_time": t0 + 5_000,
        "status": "OK",
    }
    assert (
        serve.post(
            "/api/v1/traces", orjson.dumps(native_batch(trace_id, [child_span])), "application/json"
        ).status_code
        == 200
    )
    # The root's end arrives before its start: a long-running span reported twice.
    root_end = {
        "span_id": root,
        "name": "agent",
        "kind": "AGENT",
        "start_time": t0,
        "end_time": t0 + 9_000,
        "status": "OK",
        "output": "done",
    }
    root_start = {
        "span_id": root,
        "name": "agent",
        "kind": "AGENT",
        "start_time": t0,
        "input": "go",
    }
    for span in (root_end, root_start):
        assert (
            serve.post(
                "/api/v1/traces", orjson.dumps(native_batch(trace_id, [span])), "application/json"
            ).status_code
            == 200
        )
    marker = new_trace_id()
    serve.post(
        "/api/v1/traces",
        orjson.dumps(
            native_batch(marker, [{"span_id": new_span_id(), "name": "m", "start_time": t0}])
        ),
        "application/json",
    )
    serve.wait_for_trace(marker, 1)
    trace = serve.wait_for_trace(trace_id, 2)
    spans = by_name(trace)
    assert spans["tool"]["parent_span_id"] == root
    assert spans["agent"]["parent_span_id"] is None
    assert (spans["agent"]["status"], spans["agent"]["output"], spans["agent"]["input"]) == (
        "OK",
        "done",
        "go",
    )
    assert spans["agent"]["end_time"] is not None
    assert (trace["name"], trace["status"], trace["span_count"]) == ("agent", "OK", 2)
    assert trace["root_span_id"] == root
    assert trace["duration_ms"] == pytest.approx(0.009)


def _stored_trace_count(serve: Api) -> int:
    return len(serve.trace_ids())


@pytest.mark.parametrize(
    ("content", "content_type", "headers", "status", "message"),
    [
        (b"\xff\xff\xff not protobuf", "application/x-protobuf", {}, 400, "protobuf"),
        (b"{not json", "application/json", {}, 400, "JSON"),
        (b"<xml/>", "application/xml", {}, 415, "content-type"),
        (b"x" * (MAX_BODY + 1), "application/x-protobuf", {}, 413, "limit"),
        (b"\x1f\x8b garbage", "application/x-protobuf", {"content-encoding": "gzip"}, 400, "gzip"),
        (
            gzip.compress(b"\0" * (MAX_BODY * 4)),
            "application/x-protobuf",
            {"content-encoding": "gzip"},
            413,
            "limit",
        ),
    ],
    ids=[
        "malformed-protobuf",
        "malformed-json",
        "wrong-content-type",
        "oversized",
        "bad-gzip",
        "gzip-bomb",
    ],
)
def test_bad_otlp_bodies_get_a_4xx_naming_the_problem(
    serve: Api,
    content: bytes,
    content_type: str,
    headers: dict[str, str],
    status: int,
    message: str,
) -> None:
    before = _stored_trace_count(serve)
    response = serve.post("/v1/traces", content, content_type, **headers)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]
    assert _stored_trace_count(serve) == before


@pytest.mark.parametrize(
    "auth",
    [{}, {"Authorization": "Bearer at_not-a-real-key-xxxxxxxxxxxxxxxx"}],
    ids=["missing-key", "invalid-key"],
)
def test_requests_without_a_valid_key_get_401(serve: Api, auth: dict[str, str]) -> None:
    body = otlp_request([otlp_span(new_trace_id(), new_span_id())]).SerializeToString()
    for path in ("/v1/traces", "/api/v1/traces"):
        response = serve.http.post(
            path, content=body, headers=auth | {"content-type": "application/x-protobuf"}
        )
        assert response.status_code == 401
        assert "API key" in response.json()["error"]
    assert serve.http.get("/api/v1/traces", headers=auth).status_code == 401


def test_a_span_with_a_bad_id_is_rejected_and_its_neighbours_kept(serve: Api) -> None:
    trace_id, good = new_trace_id(), new_span_id()
    bad = otlp_span(trace_id, new_span_id(), name="bad")
    bad.span_id = b"\x01\x02\x03"
    body = otlp_request([otlp_span(trace_id, good, name="good"), bad]).SerializeToString()
    response = serve.post("/v1/traces", body, "application/x-protobuf")
    assert response.status_code == 200
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

    result = ExportTraceServiceResponse.FromString(response.content)
    assert result.partial_success.rejected_spans == 1
    assert "spanId must be 8 bytes" in result.partial_success.error_message
    trace = serve.wait_for_trace(trace_id, 1)
    assert [s["name"] for s in trace["spans"]] == ["good"]


def test_native_batch_reports_bad_spans_item_by_item(serve: Api) -> None:
    trace_id, good = new_trace_id(), new_span_id()
    batch = native_batch(
        trace_id,
        [
            {"span_id": good, "name": "good", "start_time": time.time_ns()},
            {"span_id": "xyz", "name": "bad", "start_time": time.time_ns()},
            {"span_id": new_span_id(), "name": "no-start"},
        ],
    )
    response = serve.post("/api/v1/traces", orjson.dumps(batch), "application/json")
    assert response.status_code == 200
    result = response.json()
    assert result["accepted"] == 1
    assert [(r["index"], r["span_id"]) for r in result["rejected"]] == [
        (1, "xyz"),
        (2, result["rejected"][1]["span_id"]),
    ]
    assert "span_id" in result["rejected"][0]["error"]
    assert "start_time" in result["rejected"][1]["error"]
    assert [s["name"] for s in serve.wait_for_trace(trace_id, 1)["spans"]] == ["good"]


def test_native_batch_with_no_valid_span_is_422(serve: Api) -> None:
    before = _stored_trace_count(serve)
    batch = native_batch(new_trace_id(), [{"span_id": "nope", "name": "bad", "start_time": 1}])
    response = serve.post("/api/v1/traces", orjson.dumps(batch), "application/json")
    assert response.status_code == 422
    assert "span_id" in response.json()["error"]
    response = serve.post("/api/v1/traces", b'{"traces": 3}', "application/json")
    assert response.status_code == 422
    assert _stored_trace_count(serve) == before


def test_data_dir_holds_the_embedded_database(
    serve: Api, tmp_path_factory: pytest.TempPathFactory
) -> None:
    data_dirs = list(Path(tmp_path_factory.getbasetemp()).glob("serve-data*"))
    assert any((d / "postgres" / "PG_VERSION").exists() for d in data_dirs)


def test_graphql_answers_the_readme_query_and_serves_graphiql(serve: Api) -> None:
    trace_id = new_trace_id()
    root = new_span_id()
    now = time.time_ns() + 10**12  # the newest trace, so on the README query's first page
    batch = native_batch(
        trace_id,
        [
            {
                "span_id": root,
                "name": "agent",
                "kind": "AGENT",
                "start_time": now,
                "end_time": now + 9,
            },
            {
                "span_id": new_span_id(),
                "parent_span_id": root,
                "name": "llm",
                "kind": "LLM",
                "start_time": now + 2,
                "end_time": now + 3,
            },
        ],
    )
    assert serve.post("/api/v1/traces", orjson.dumps(batch), "application/json").status_code == 200
    serve.wait_for_trace(trace_id, 2)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    query = readme.split('-d \'{"query": "', 1)[1].split("\"}'", 1)[0]
    response = serve.http.post("/graphql", json={"query": query}, headers=serve.auth)
    assert response.status_code == 200, response.text
    traces = {t["traceId"]: t for t in response.json()["data"]["project"]["traces"]["nodes"]}
    assert traces[trace_id]["spans"] == [{"name": "agent", "depth": 0}, {"name": "llm", "depth": 1}]
    page = serve.http.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "graphiql" in page.text.lower()


async def test_serve_streams_stored_traces_to_a_subscriber(serve: Api) -> None:
    """Embedded mode: the in-process bus, worker and fan-out, with the same subscription
    code as the distributed API."""
    url = serve.base_url.replace("http://", "ws://") + "/graphql"
    query = "subscription { traceUpdates { traceId name spanCount } }"
    sent: set[str] = set()
    async with subscribed(url, serve.api_key, query) as subscriber:
        async with asyncio.timeout(60):
            while not {r["traceUpdates"]["traceId"] for _, r in subscriber.results} & sent:
                trace_id = new_trace_id()
                batch = native_batch(trace_id, agent_trace_spans(time.time_ns(), 2))
                response = await asyncio.to_thread(
                    serve.post, "/api/v1/traces", orjson.dumps(batch), "application/json"
                )
                assert response.status_code == 200, response.text
                sent.add(trace_id)
                await asyncio.sleep(0.3)
    update = next(
        r["traceUpdates"] for _, r in subscriber.results if r["traceUpdates"]["traceId"] in sent
    )
    assert (update["name"], update["spanCount"]) == ("root", 2)
