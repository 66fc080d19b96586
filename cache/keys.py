"""Cache keys. The seed names them ``trace:{id}`` and ``project:{id}:stats``; trace keys
also carry the project, since trace ids are only unique within one."""

from __future__ import annotations

import uuid

from storage.otel_ids import trace_id_to_hex


def trace_key(project_id: uuid.UUID, trace_id: uuid.UUID) -> str:
    return f"trace:{project_id}:{trace_id_to_hex(trace_id)}"


def project_stats_key(project_id: uuid.UUID) -> str:
    return f"project:{project_id}:stats"


def generation_key(key: str) -> str:
    """The companion of ``key`` that names its current generation: what was cached from
    a read of ``key``'s data lives under that generation, and invalidating ``key`` also
    ends its generation (cache/store.py)."""
    return f"{key}:generation"


def graphql_response_key(trace: str, generation: str, digest: str) -> str:
    """A GraphQL response read from the trace whose key is ``trace``, in ``generation``;
    ``digest`` names the document, operation and variables."""
    return f"{trace}:graphql:{generation}:{digest}"
