"""Attribute conventions of OpenInference, OTel GenAI and OpenLLMetry map onto our columns."""

from __future__ import annotations

from typing import Any

import pytest

from ingest.conventions import apply_conventions
from messaging.span_batch import SpanRecord


def _apply(attributes: dict[str, Any], resource: dict[str, Any] | None = None) -> SpanRecord:
    record: SpanRecord = {"trace_id": "t", "span_id": "s", "name": "n", "start_time_unix_nano": 1}
    apply_conventions(record, attributes, resource or {})
    return record


def test_openinference_llm_span() -> None:
    record = _apply(
        {
            "openinference.span.kind": "LLM",
            "llm.model_name": "gpt-4o",
            "llm.token_count.prompt": 12,
            "llm.token_count.completion": 3,
            "llm.token_count.total": 15,
            "input.value": '{"messages": []}',
            "input.mime_type": "application/json",
            "output.value": "plain text",
            "session.id": "s1",
            "user.id": "u1",
            "tag.tags": ["a", "b"],
            "metadata": '{"team": "x"}',
        }
    )
    assert (record["kind"], record["model"]) == ("LLM", "gpt-4o")
    assert (record["input_tokens"], record["output_tokens"], record["total_tokens"]) == (12, 3, 15)
    assert record["input"] == {"messages": []}
    assert record["output"] == "plain text"
    assert (record["session_id"], record["user_id"], record["tags"]) == ("s1", "u1", ["a", "b"])
    assert record["metadata"] == {"team": "x"}


def test_otel_genai_chat_span() -> None:
    record = _apply(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "claude",
            "gen_ai.usage.input_tokens": 5,
            "gen_ai.usage.output_tokens": 7,
        },
        {"deployment.environment.name": "prod"},
    )
    assert (record["kind"], record["model"], record["total_tokens"]) == ("LLM", "claude", 12)
    assert record["environment"] == "prod"


@pytest.mark.parametrize(
    ("attributes", "kind"),
    [
        ({"traceloop.span.kind": "workflow"}, "CHAIN"),
        ({"traceloop.span.kind": "tool"}, "TOOL"),
        ({"gen_ai.operation.name": "embeddings"}, "EMBEDDING"),
        ({"gen_ai.operation.name": "invoke_agent"}, "AGENT"),
        ({"openinference.span.kind": "retriever"}, "RETRIEVER"),
        ({"http.method": "GET"}, "SPAN"),
    ],
)
def test_span_kind_from_each_convention(attributes: dict[str, Any], kind: str) -> None:
    assert _apply(attributes)["kind"] == kind
