"""Maps the attribute conventions of OpenInference, the OTel GenAI semantic conventions
and OpenLLMetry onto our span columns.

An attribute whose value a column now holds without loss (``input.value`` in ``input``,
``llm.model_name`` in ``model``, ``llm.token_count.*`` in the token columns...) is not
kept in ``attributes`` as well: storing prompts and completions twice doubled the size of
an OpenInference span (docs/benchmarks.md, "Storage"). Every other attribute is kept as it
came, including a mapped one whose column changed it (a kind in lowercase, a user id that
was a number, a second model key that lost to the first). docs/graphql.md lists the keys.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from messaging.span_batch import SPAN_KINDS, SpanRecord

_TRACELOOP_KINDS = {"workflow": "CHAIN", "task": "CHAIN", "agent": "AGENT", "tool": "TOOL"}
_GENAI_OPERATION_KINDS = {
    "chat": "LLM",
    "text_completion": "LLM",
    "generate_content": "LLM",
    "embeddings": "EMBEDDING",
    "execute_tool": "TOOL",
    "invoke_agent": "AGENT",
    "create_agent": "AGENT",
}
_LLM_REQUEST_TYPES = {"chat": "LLM", "completion": "LLM", "embedding": "EMBEDDING"}


def _first(attributes: dict[str, Any], *keys: str) -> tuple[str | None, Any]:
    """The first of ``keys`` with a value, and that value; (None, None) when none has."""
    for key in keys:
        value = attributes.get(key)
        if value is not None and value != "":
            return key, value
    return None, None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value >= 0 else None
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _payload(value: Any, mime_type: Any) -> Any:
    """``input.value`` is a string; when it says (or looks like) JSON, store it as JSON."""
    if isinstance(value, str) and (
        mime_type == "application/json" or (mime_type is None and value[:1] in "[{")
    ):
        try:
            return orjson.loads(value)
        except orjson.JSONDecodeError:
            return value
    return value


_KIND_KEYS = ("openinference.span.kind", "agenttrace.span.kind")
"""Kind attributes whose value is the kind itself (when in upper case)."""


def _kind(attributes: dict[str, Any]) -> tuple[str, str | None]:
    """The span's kind, and the attribute that says exactly it (None: derived)."""
    for key in _KIND_KEYS:
        kind = attributes.get(key)
        if isinstance(kind, str) and kind.upper() in SPAN_KINDS:
            return kind.upper(), key if kind.isupper() else None
    traceloop = attributes.get("traceloop.span.kind")
    if isinstance(traceloop, str) and traceloop in _TRACELOOP_KINDS:
        return _TRACELOOP_KINDS[traceloop], None
    operation = attributes.get("gen_ai.operation.name")
    if isinstance(operation, str) and operation in _GENAI_OPERATION_KINDS:
        return _GENAI_OPERATION_KINDS[operation], None
    request_type = attributes.get("llm.request.type")
    if isinstance(request_type, str) and request_type in _LLM_REQUEST_TYPES:
        return _LLM_REQUEST_TYPES[request_type], None
    if attributes.get("gen_ai.system") is not None or attributes.get("gen_ai.provider.name"):
        return "LLM", None
    return "SPAN", None


def span_kind(attributes: dict[str, Any]) -> str:
    return _kind(attributes)[0]


def _same(key: str | None, value: Any, column: Any) -> str | None:
    """``key`` when the column holds its value unchanged (type included), else None."""
    if key is None or isinstance(value, bool) or type(value) is not type(column):
        return None
    return key if value == column else None


_LONG_NUMBER = re.compile(r"\d{19}")


def _payload_keys(
    attributes: dict[str, Any], key: str | None, column: Any, prefix: str
) -> list[str]:
    """The payload attribute the column holds, with ``<prefix>.mime_type`` when the column
    says it too: JSON came from ``application/json``, a string from ``text/plain``. None
    when parsing may have changed a value: JSON numbers past 64 bits come back as floats
    (rounded), so an attribute with a run of 19 digits or more stays as it came."""
    if key is None:
        return []
    raw = attributes.get(key)
    if not isinstance(column, str) and isinstance(raw, str) and _LONG_NUMBER.search(raw):
        return []
    if key != f"{prefix}.value":
        return [key]
    mime_key = f"{prefix}.mime_type"
    mime = attributes.get(mime_key)
    if (mime == "application/json" and not isinstance(column, str)) or (
        mime == "text/plain" and isinstance(column, str)
    ):
        return [key, mime_key]
    return [key]  # another type (text/markdown...) stays: the column cannot say it


def apply_conventions(
    record: SpanRecord, attributes: dict[str, Any], resource: dict[str, Any]
) -> None:
    """Fills the record's columns from well-known attributes, and sets its
    ``attributes`` to the others (in place; ``attributes`` itself is not changed)."""
    mapped: list[str | None] = []
    record["kind"], kind_key = _kind(attributes)
    mapped.append(kind_key)
    model_key, model = _first(
        attributes,
        "llm.model_name",
        "gen_ai.response.model",
        "gen_ai.request.model",
        "embedding.model_name",
    )
    record["model"] = str(model) if model is not None else None
    mapped.append(_same(model_key, model, record["model"]))
    input_key, input_tokens = _first(
        attributes,
        "llm.token_count.prompt",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.prompt_tokens",
    )
    output_key, output_tokens = _first(
        attributes,
        "llm.token_count.completion",
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.completion_tokens",
    )
    total_key, total_tokens = _first(attributes, "llm.token_count.total", "llm.usage.total_tokens")
    record["input_tokens"] = _int(input_tokens)
    record["output_tokens"] = _int(output_tokens)
    record["total_tokens"] = _int(total_tokens)
    mapped += [
        _same(input_key, input_tokens, record["input_tokens"]),
        _same(output_key, output_tokens, record["output_tokens"]),
        _same(total_key, total_tokens, record["total_tokens"]),
    ]
    if record["total_tokens"] is None and (
        record["input_tokens"] is not None or record["output_tokens"] is not None
    ):
        record["total_tokens"] = (record["input_tokens"] or 0) + (record["output_tokens"] or 0)
    cost_key, cost = _first(attributes, "llm.cost.total", "gen_ai.usage.cost")
    record["cost"] = _float(cost)
    mapped.append(_same(cost_key, cost, record["cost"]))
    payload_key, payload = _first(
        attributes, "input.value", "traceloop.entity.input", "gen_ai.prompt"
    )
    record["input"] = _payload(payload, attributes.get("input.mime_type"))
    mapped += _payload_keys(attributes, payload_key, record["input"], "input")
    payload_key, payload = _first(
        attributes, "output.value", "traceloop.entity.output", "gen_ai.completion"
    )
    record["output"] = _payload(payload, attributes.get("output.mime_type"))
    mapped += _payload_keys(attributes, payload_key, record["output"], "output")
    user_key, user = _first(attributes, "user.id", "enduser.id")
    session_key, session = _first(attributes, "session.id", "gen_ai.conversation.id")
    record["user_id"] = str(user) if user is not None else None
    record["session_id"] = str(session) if session is not None else None
    mapped += [
        _same(user_key, user, record["user_id"]),
        _same(session_key, session, record["session_id"]),
    ]
    environment_key, environment = _first(
        attributes, "deployment.environment.name", "deployment.environment"
    )
    if environment is None:
        # From the resource, which is stored as it came: nothing to take out.
        environment = _first(resource, "deployment.environment.name", "deployment.environment")[1]
    record["environment"] = str(environment) if environment is not None else None
    mapped.append(_same(environment_key, environment, record["environment"]))
    tags = attributes.get("tag.tags")
    record["tags"] = [str(t) for t in tags] if isinstance(tags, list) else []
    if isinstance(tags, list) and all(isinstance(t, str) for t in tags):
        mapped.append("tag.tags")
    metadata = _payload(attributes.get("metadata"), "application/json")
    record["metadata"] = metadata if isinstance(metadata, dict) else {}
    if isinstance(metadata, dict):
        mapped.append("metadata")
    dropped = {key for key in mapped if key is not None}
    record["attributes"] = (
        {k: v for k, v in attributes.items() if k not in dropped} if dropped else attributes
    )


def stored_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """What ``apply_conventions`` keeps of ``attributes`` in the span's ``attributes``."""
    record: SpanRecord = {"trace_id": "", "span_id": "", "name": "", "start_time_unix_nano": 0}
    apply_conventions(record, attributes, {})
    return record["attributes"]
