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


# --- what stays in ``attributes`` -----------------------------------------------------


def test_attributes_a_column_holds_are_not_kept_twice() -> None:
    sent = {
        "openinference.span.kind": "LLM",
        "llm.model_name": "gpt-4o",
        "llm.provider": "openai",
        "llm.token_count.prompt": 12,
        "llm.token_count.completion": 3,
        "llm.token_count.total": 15,
        "llm.cost.total": 0.25,
        "input.value": '{"messages": []}',
        "input.mime_type": "application/json",
        "output.value": "plain text",
        "output.mime_type": "text/plain",
        "session.id": "s1",
        "user.id": "u1",
        "deployment.environment.name": "prod",
        "tag.tags": ["a", "b"],
        "metadata": '{"team": "x"}',
        "otel.scope.name": "openinference.instrumentation.openai",
    }
    record = _apply(dict(sent))
    # Only what no column holds: the prompt and completion are in input and output alone.
    assert record["attributes"] == {
        "llm.provider": "openai",
        "otel.scope.name": "openinference.instrumentation.openai",
    }
    assert (record["kind"], record["model"], record["cost"]) == ("LLM", "gpt-4o", 0.25)
    assert record["input"] == {"messages": []}
    assert record["output"] == "plain text"
    assert record["environment"] == "prod"


def test_the_attributes_given_are_not_changed() -> None:
    sent = {"llm.model_name": "gpt-4o", "input.value": "hi"}
    record = _apply(sent)
    assert sent == {"llm.model_name": "gpt-4o", "input.value": "hi"}
    assert record["attributes"] == {}


def test_nothing_is_taken_out_when_there_is_nothing_to_map() -> None:
    sent = {"http.method": "GET", "tool.name": "search"}
    assert _apply(sent)["attributes"] == sent


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        # The column changed the value: the attribute stays as it came.
        ({"openinference.span.kind": "llm"}, {"openinference.span.kind": "llm"}),
        ({"traceloop.span.kind": "workflow"}, {"traceloop.span.kind": "workflow"}),
        ({"gen_ai.operation.name": "chat"}, {"gen_ai.operation.name": "chat"}),
        ({"user.id": 42}, {"user.id": 42}),
        ({"llm.token_count.prompt": "12"}, {"llm.token_count.prompt": "12"}),
        ({"llm.token_count.prompt": -1}, {"llm.token_count.prompt": -1}),
        ({"llm.cost.total": 1}, {"llm.cost.total": 1}),
        ({"tag.tags": ["a", 1]}, {"tag.tags": ["a", 1]}),
        ({"metadata": "not json"}, {"metadata": "not json"}),
        # Only the attribute a column was filled from goes; the one that lost stays.
        (
            {"gen_ai.response.model": "gpt-4o-2024", "gen_ai.request.model": "gpt-4o"},
            {"gen_ai.request.model": "gpt-4o"},
        ),
        # A MIME type the column cannot tell apart stays; one it says goes.
        (
            {"input.value": "# Title", "input.mime_type": "text/markdown"},
            {"input.mime_type": "text/markdown"},
        ),
        (
            {"input.value": "{bad", "input.mime_type": "application/json"},
            {"input.mime_type": "application/json"},
        ),
        ({"input.value": "[1]", "input.mime_type": "application/json"}, {}),
        ({"output.value": "[1]"}, {}),
        # The environment from the resource: the resource is stored as it came.
        ({}, {}),
    ],
)
def test_an_attribute_stays_unless_its_column_holds_it_unchanged(
    sent: dict[str, Any], kept: dict[str, Any]
) -> None:
    assert _apply(dict(sent), {"deployment.environment.name": "prod"})["attributes"] == kept


def test_a_json_payload_with_a_number_past_64_bits_keeps_its_attribute() -> None:
    """Parsing rounds such a number (orjson reads it as a float): the exact text stays."""
    raw = '{"order_id": 123456789012345678901234}'
    record: dict[str, Any] = {}
    apply_conventions(record, {"input.value": raw, "input.mime_type": "application/json"}, {})
    assert record["attributes"]["input.value"] == raw
