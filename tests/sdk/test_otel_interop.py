"""OpenTelemetry spans and AgentTrace spans in one trace: a root AgentTrace span joins the
current OTel span's trace, and ``otel_context()`` puts OTel spans under AgentTrace ones."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import agenttrace_sdk as at
import pytest
from agenttrace_sdk import spans as spans_module
from opentelemetry import trace as otel_trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from tests.sdk.conftest import RecordingSink, Serve, spans_by_name


def _ids(span: otel_trace.Span) -> tuple[str, str]:
    context = span.get_span_context()
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


@pytest.fixture
def tracer() -> Iterator[otel_trace.Tracer]:
    provider = TracerProvider()  # not the global one: start_as_current_span sets the context
    yield provider.get_tracer("test")
    provider.shutdown()


def test_otel_and_sdk_spans_share_one_trace_on_the_server(serve: Serve, sdk: object) -> None:
    api = serve.api
    assert api is not None
    provider = TracerProvider()
    provider.add_span_processor(
        BatchSpanProcessor(
            OTLPSpanExporter(endpoint=f"{serve.base_url}/v1/traces", headers=api.auth)
        )
    )
    tracer = provider.get_tracer("interop")
    seen: dict[str, str] = {}

    @at.trace(name="agent", kind="AGENT")
    def agent(question: str) -> str:
        seen["agent"] = at.current_span().span_id
        with tracer.start_as_current_span("otel-child", context=at.otel_context()) as child:
            seen["otel-child"] = _ids(child)[1]
            with at.span("sdk-grandchild", kind="TOOL"):
                pass
        return question.upper()

    try:
        with tracer.start_as_current_span("otel-root") as root:
            trace_id, root_id = _ids(root)
            assert agent("hi") == "HI"
        assert at.flush(10)
        assert provider.force_flush(10_000)
    finally:
        provider.shutdown()

    trace = api.wait_for_trace(trace_id, 4)
    spans = spans_by_name(trace)
    assert set(spans) == {"otel-root", "agent", "otel-child", "sdk-grandchild"}
    assert trace["trace_id"] == trace_id
    assert spans["otel-root"]["span_id"] == root_id
    assert spans["otel-root"]["parent_span_id"] is None
    assert spans["agent"]["span_id"] == seen["agent"]
    assert spans["agent"]["parent_span_id"] == root_id
    assert spans["agent"]["kind"] == "AGENT"
    assert spans["agent"]["output"] == "HI"
    assert spans["otel-child"]["span_id"] == seen["otel-child"]
    assert spans["otel-child"]["parent_span_id"] == seen["agent"]
    # AgentTrace spans nest under the current AgentTrace span, not the OTel span in between.
    assert spans["sdk-grandchild"]["parent_span_id"] == seen["agent"]
    assert trace["root_span_id"] == root_id
    assert trace["span_count"] == 4


def test_root_span_joins_the_current_otel_span(
    recorded: RecordingSink, tracer: otel_trace.Tracer
) -> None:
    with (
        tracer.start_as_current_span("outer") as outer,
        at.span("inner") as inner,
        at.span("leaf") as leaf,
    ):
        pass
    trace_id, span_id = _ids(outer)
    assert (inner.trace_id, inner.parent_span_id) == (trace_id, span_id)
    assert (leaf.trace_id, leaf.parent_span_id) == (trace_id, inner.span_id)


def test_without_a_current_otel_span_a_new_trace_starts(recorded: RecordingSink) -> None:
    with at.span("alone") as alone:
        pass
    assert alone.parent_span_id is None
    assert alone.trace_id != "0" * 32


def test_an_unsampled_otel_span_is_not_joined(recorded: RecordingSink) -> None:
    tracer = TracerProvider(sampler=ALWAYS_OFF).get_tracer("off")
    with tracer.start_as_current_span("dropped") as dropped, at.span("kept") as kept:
        pass
    assert kept.parent_span_id is None
    assert kept.trace_id != _ids(dropped)[0]
    assert kept.recording


def test_the_sampling_decision_stays_the_sdks(tracer: otel_trace.Tracer) -> None:
    sink = RecordingSink()
    previous = spans_module.install(spans_module.Runtime(sink, sample_rate=0.0))
    try:
        with tracer.start_as_current_span("outer") as outer, at.span("inner") as inner:
            pass
    finally:
        spans_module.install(previous)
    assert inner.trace_id == _ids(outer)[0]
    assert not inner.recording
    assert sink.ended == []


def test_otel_is_only_looked_up_once_something_imported_it(
    recorded: RecordingSink, tracer: otel_trace.Tracer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(spans_module, "_otel_get_current_span", None)
    module = sys.modules["opentelemetry.trace"]
    monkeypatch.delitem(sys.modules, "opentelemetry.trace")
    with tracer.start_as_current_span("outer"), at.span("not-joined") as span:
        pass
    assert span.parent_span_id is None
    assert spans_module._otel_get_current_span is None
    monkeypatch.setitem(sys.modules, "opentelemetry.trace", module)
    with tracer.start_as_current_span("outer") as outer, at.span("joined") as span:
        pass
    assert span.parent_span_id == _ids(outer)[1]
    assert spans_module._otel_get_current_span is otel_trace.get_current_span


def test_a_failing_otel_lookup_starts_a_new_trace(
    recorded: RecordingSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> otel_trace.Span:
        raise RuntimeError("broken")

    monkeypatch.setattr(spans_module, "_otel_get_current_span", broken)
    with at.span("fine") as span:
        pass
    assert span.parent_span_id is None


def test_otel_context_parents_otel_spans_under_the_current_span(
    recorded: RecordingSink, tracer: otel_trace.Tracer
) -> None:
    with at.span("agent") as agent:
        with tracer.start_as_current_span("child", context=at.otel_context()) as child:
            pass
        explicit = at.otel_context(agent)
    assert _ids(child)[0] == agent.trace_id
    parent = child.parent  # type: ignore[attr-defined]
    assert parent is not None
    assert format(parent.span_id, "016x") == agent.span_id
    assert child.get_span_context().trace_flags.sampled
    context = otel_trace.get_current_span(explicit).get_span_context()
    assert format(context.span_id, "016x") == agent.span_id


def test_otel_context_follows_the_sdks_sampling(tracer: otel_trace.Tracer) -> None:
    previous = spans_module.install(spans_module.Runtime(RecordingSink(), sample_rate=0.0))
    try:
        with at.span("sampled-out"):
            context = at.otel_context()
    finally:
        spans_module.install(previous)
    with tracer.start_as_current_span("child", context=context) as child:
        pass
    assert not child.get_span_context().trace_flags.sampled


def test_otel_context_without_a_span_to_join_is_the_current_one(
    tracer: otel_trace.Tracer,
) -> None:
    previous = spans_module.install(spans_module.Runtime(spans_module.DISCARD))
    try:
        with tracer.start_as_current_span("outer") as outer:
            assert otel_trace.get_current_span(at.otel_context()) is outer
            with at.span("not-initialised"):
                assert otel_trace.get_current_span(at.otel_context()) is outer
    finally:
        spans_module.install(previous)
