"""Cache keys. The seed names them ``trace:{id}`` and ``project:{id}:stats``; trace keys
also carry the project, since trace ids are only unique within one."""

from __future__ import annotations

import uuid

from storage.otel_ids import trace_id_to_hex


def trace_key(project_id: uuid.UUID, trace_id: uuid.UUID) -> str:
    return f"trace:{project_id}:{trace_id_to_hex(trace_id)}"


def project_stats_key(project_id: uuid.UUID) -> str:
    return f"project:{project_id}:stats"
