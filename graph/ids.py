"""The node ids inside Relay global ids. Traces and spans carry their project, so a
lookup is always scoped; a malformed id is a clear error, not a 500."""

from __future__ import annotations

import uuid

from strawberry import relay

from agenttrace.errors import InvalidArgument
from resolvers.records import SpanKey, TraceKey
from storage.otel_ids import (
    InvalidId,
    span_id_from_hex,
    span_id_to_hex,
    trace_id_from_hex,
    trace_id_to_hex,
)


def trace_node_id(key: TraceKey) -> str:
    return f"{key[0]}:{trace_id_to_hex(key[1])}"


def span_node_id(key: SpanKey) -> str:
    return f"{key[0]}:{trace_id_to_hex(key[1])}:{span_id_to_hex(key[2])}"


def scoped_node_id(key: tuple[uuid.UUID, uuid.UUID]) -> str:
    """The node id of a row keyed by (project id, its own uuid): annotations, API keys."""
    return f"{key[0]}:{key[1]}"


def node_id_of(global_id: relay.GlobalID, type_name: str, argument: str) -> str:
    """The node id inside ``global_id``; InvalidArgument if it is another type's id."""
    if global_id.type_name != type_name:
        raise InvalidArgument(
            f"{argument} must be the id of a {type_name}, not of a {global_id.type_name}"
        )
    return global_id.node_id


def parse_uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidArgument(f"{what} {value!r} is not a valid id") from None


def parse_trace_id(value: str) -> uuid.UUID:
    """A 32-hex-digit OTel trace id."""
    try:
        return trace_id_from_hex(value.lower())
    except InvalidId as exc:
        raise InvalidArgument(f"trace id {value!r}: {exc}") from None


def parse_span_id(value: str) -> int:
    try:
        return span_id_from_hex(value.lower())
    except InvalidId as exc:
        raise InvalidArgument(f"span id {value!r}: {exc}") from None


def parse_trace_node_id(node_id: str) -> TraceKey:
    project, _, trace = node_id.partition(":")
    return parse_uuid(project, "project"), parse_trace_id(trace)


def parse_span_node_id(node_id: str) -> SpanKey:
    project, trace, span = [*node_id.split(":"), "", ""][:3]
    return parse_uuid(project, "project"), parse_trace_id(trace), parse_span_id(span)


def parse_scoped_node_id(node_id: str, what: str) -> tuple[uuid.UUID, uuid.UUID]:
    project, _, own = node_id.partition(":")
    return parse_uuid(project, "project"), parse_uuid(own, what)
