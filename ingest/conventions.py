"""Maps the attribute conventions of OpenInference, the OTel GenAI semantic conventions
and OpenLLMetry onto our span columns. Every attribute is also kept as it came."""

from __future__ import annotations

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


def _first(attributes: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        value = attributes.get(key)
        if value is not None and value != "":
            return value
    return None


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


def span_kind(attributes: dict[str, Any]) -> str:
    kind = attributes.get("openinference.span.kind")
    if isinstance(kind, str) and kind.upper() in SPAN_KINDS:
        return kind.upper()
    kind = attributes.get("agenttrace.span.kind")
    if isinstance(kind, str) and kind.upper() in SPAN_KINDS:
        return kind.upper()
    traceloop = attributes.get("traceloop.span.kind")
    if isinstance(traceloop, str) and traceloop in _TRACELOOP_KINDS:
        return _TRACELOOP_KINDS[traceloop]
    operation = attributes.get("gen_ai.operation.name")
    if isinstance(operation, str) and operation in _GENAI_OPERATION_KINDS:
        return _GENAI_OPERATION_KINDS[operation]
    request_type = attributes.get("llm.request.type")
    if isinstance(request_type, str) and request_type in _LLM_REQUEST_TYPES:
        return _LLM_REQUEST_TYPES[request_type]
    if attributes.get("gen_ai.system") is not None or attributes.get("gen_ai.provider.name"):
        return "LLM"
    return "SPAN"


def apply_conventions(
    record: SpanRecord, attributes: dict[str, Any], resource: dict[str, Any]
) -> None:
    """Fills the record's columns from well-known attributes (in place)."""
    record["kind"] = span_kind(attributes)
    model = _first(
        attributes,
        "llm.model_name",
        "gen_ai.response.model",
        "gen_ai.request.model",
        "embedding.model_name",
    )
    record["model"] = str(model) if model is not None else None
    input_tokens = _int(
        _first(
            attributes,
            "llm.token_count.prompt",
            "gen_ai.usage.input_tokens",
            "gen_ai.usage.prompt_tokens",
        )
    )
    output_tokens = _int(
        _first(
            attributes,
            "llm.token_count.completion",
            "gen_ai.usage.output_tokens",
            "gen_ai.usage.completion_tokens",
        )
    )
    total_tokens = _int(_first(attributes, "llm.token_count.total", "llm.usage.total_tokens"))
    if total_tokens is None and (input_tokens is not None or output_tokens is not None):
        total_tokens = (input_tokens or 0) + (output_tokens or 0)
    record["input_tokens"] = input_tokens
    record["output_tokens"] = output_tokens
    record["total_tokens"] = total_tokens
    record["cost"] = _float(_first(attributes, "llm.cost.total", "gen_ai.usage.cost"))
    record["input"] = _payload(
        _first(attributes, "input.value", "traceloop.entity.input", "gen_ai.prompt"),
        attributes.get("input.mime_type"),
    )
    record["output"] = _payload(
        _first(attributes, "output.value", "traceloop.entity.output", "gen_ai.completion"),
        attributes.get("output.mime_type"),
    )
    user = _first(attributes, "user.id", "enduser.id")
    session = _first(attributes, "session.id", "gen_ai.conversation.id")
    record["user_id"] = str(user) if user is not None else None
    record["session_id"] = str(session) if session is not None else None
    environment = _first(
        attributes, "deployment.environment.name", "deployment.environment"
    ) or _first(resource, "deployment.environment.name", "deployment.environment")
    record["environment"] = str(environment) if environment is not None else None
    tags = attributes.get("tag.tags")
    record["tags"] = [str(t) for t in tags] if isinstance(tags, list) else []
    metadata = _payload(attributes.get("metadata"), "application/json")
    record["metadata"] = metadata if isinstance(metadata, dict) else {}
