"""The ingest endpoints: ``POST /v1/traces`` (OTLP/HTTP) and ``POST /api/v1/traces``.

A 2xx is sent only after the bus acknowledged the spans; when it cannot, 503 with
Retry-After, so a client retries rather than losing data. Over its API key's rate limits
(ingest/rate_limits.py): 429 with Retry-After, nothing published.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceResponse,
)

from access.authenticator import Authenticator
from access.permissions import Permission
from access.rate_limits import Decision, tightest
from access.viewer import Viewer
from agenttrace.settings import Settings
from ingest import metrics, native, otlp
from ingest.body import media_type, read_body
from ingest.decoded import DecodedBatch
from ingest.errors import InvalidBatch, UnsupportedMediaType
from ingest.publisher import publish_spans
from ingest.rate_limits import IngestRateLimits
from messaging.bus import Bus

log = structlog.get_logger(__name__)

PROTOBUF_TYPES = ("application/x-protobuf", "application/protobuf")
JSON_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class IngestService:
    settings: Settings
    bus: Bus
    auth: Authenticator
    """Ingest takes project API keys with the ingest scope (people have no ingest role)."""


def _service(request: Request) -> IngestService:
    service: IngestService = request.app.state.ingest
    return service


def _rate_limits(request: Request) -> IngestRateLimits:
    limits: IngestRateLimits = request.app.state.ingest_limits
    return limits


async def _admit_request(request: Request, viewer: Viewer) -> Decision | None:
    """Before the body is read: RateLimited when the key is over its requests/s."""
    return await _rate_limits(request).admit_request(viewer.principal, viewer.project_id)


async def _admit_spans(request: Request, viewer: Viewer, decoded: DecodedBatch) -> Decision | None:
    """Before anything is published: RateLimited when the key is over its spans/s, the
    request's spans (valid or not) counted."""
    spans = len(decoded.spans) + len(decoded.rejected)
    return await _rate_limits(request).admit_spans(viewer.principal, viewer.project_id, spans)


def _with_limits(response: Response, *decisions: Decision | None) -> Response:
    """The X-RateLimit-* headers of the limit closest to refusing."""
    if (decision := tightest(decisions)) is not None:
        response.headers.update(decision.headers())
    return response


def _observe_size(request: Request, route: str, body: bytes) -> None:
    """The size as sent (a gzip body's compressed size), else as read."""
    declared = request.headers.get("content-length", "")
    metrics.PAYLOAD_BYTES.labels(route).observe(int(declared) if declared.isdigit() else len(body))


def _correlation_id(request: Request) -> str:
    return request.headers.get("x-request-id") or uuid.uuid4().hex


async def _accept(request: Request, project_id: uuid.UUID, decoded: DecodedBatch) -> None:
    service = _service(request)
    correlation_id = _correlation_id(request)
    if decoded.spans:
        with metrics.timed_publish():
            await publish_spans(service.bus, project_id, decoded.spans, correlation_id)
    metrics.SPANS.labels("accepted").inc(len(decoded.spans))
    metrics.SPANS.labels("rejected").inc(len(decoded.rejected))
    log.info(
        "ingest.accepted",
        project_id=str(project_id),
        spans=len(decoded.spans),
        rejected=len(decoded.rejected),
        correlation_id=correlation_id,
    )


router = APIRouter()


@router.post("/v1/traces", tags=["ingest"], summary="OTLP/HTTP trace export")
async def otlp_traces(request: Request) -> Response:
    with metrics.counted_request("otlp"):
        return await _otlp_traces(request)


async def _otlp_traces(request: Request) -> Response:
    service = _service(request)
    # Authenticate before reading the body: an unauthenticated client costs us nothing.
    viewer = await service.auth.require(request, Permission.INGEST)
    admitted = await _admit_request(request, viewer)
    content_type = media_type(request)
    if content_type not in (*PROTOBUF_TYPES, JSON_TYPE):
        raise UnsupportedMediaType(
            f"content-type '{content_type}' is not supported: use application/x-protobuf or application/json"
        )
    body = await read_body(request, service.settings.max_body_bytes)
    _observe_size(request, "otlp", body)
    is_protobuf = content_type in PROTOBUF_TYPES
    export = otlp.parse_protobuf(body) if is_protobuf else otlp.parse_json(body)
    decoded = otlp.to_records(export)
    spans_admitted = await _admit_spans(request, viewer, decoded)
    await _accept(request, viewer.project_id, decoded)
    response = ExportTraceServiceResponse()
    if decoded.rejected:
        response.partial_success.rejected_spans = len(decoded.rejected)
        response.partial_success.error_message = "; ".join(
            f"span {r.index} ({r.span_id or 'no id'}): {r.error}" for r in decoded.rejected[:20]
        )
    if is_protobuf:
        answer = Response(response.SerializeToString(), media_type="application/x-protobuf")
    else:
        answer = Response(json_format.MessageToJson(response), media_type=JSON_TYPE)
    return _with_limits(answer, admitted, spans_admitted)


@router.post("/api/v1/traces", tags=["ingest"], summary="Native JSON trace batch")
async def native_traces(request: Request) -> Response:
    with metrics.counted_request("native"):
        return await _native_traces(request)


async def _native_traces(request: Request) -> Response:
    service = _service(request)
    viewer = await service.auth.require(request, Permission.INGEST)
    admitted = await _admit_request(request, viewer)
    if media_type(request) != JSON_TYPE:
        raise UnsupportedMediaType("content-type must be application/json")
    body = await read_body(request, service.settings.max_body_bytes)
    _observe_size(request, "native", body)
    decoded = native.decode(body)
    rejected = [
        {"index": r.index, "span_id": r.span_id, "error": r.error} for r in decoded.rejected
    ]
    if not decoded.spans and rejected:
        raise InvalidBatch(f"no valid span in the batch: {rejected[0]['error']}")
    spans_admitted = await _admit_spans(request, viewer, decoded)
    await _accept(request, viewer.project_id, decoded)
    answer = JSONResponse({"accepted": len(decoded.spans), "rejected": rejected})
    return _with_limits(answer, admitted, spans_admitted)
