"""The ingest endpoints: ``POST /v1/traces`` (OTLP/HTTP) and ``POST /api/v1/traces``.

A 2xx is sent only after the bus acknowledged the spans; when it cannot, 503 with
Retry-After, so a client retries rather than losing data.
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

from access.api_keys import ApiKeyResolver
from access.permissions import Permission
from agenttrace.settings import Settings
from ingest import native, otlp
from ingest.body import media_type, read_body
from ingest.decoded import DecodedBatch
from ingest.errors import InvalidBatch, UnsupportedMediaType
from ingest.publisher import publish_spans
from messaging.bus import Bus

log = structlog.get_logger(__name__)

PROTOBUF_TYPES = ("application/x-protobuf", "application/protobuf")
JSON_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class IngestService:
    settings: Settings
    bus: Bus
    keys: ApiKeyResolver


def _service(request: Request) -> IngestService:
    service: IngestService = request.app.state.ingest
    return service


def _correlation_id(request: Request) -> str:
    return request.headers.get("x-request-id") or uuid.uuid4().hex


async def _accept(request: Request, project_id: uuid.UUID, decoded: DecodedBatch) -> None:
    service = _service(request)
    if decoded.spans:
        await publish_spans(service.bus, project_id, decoded.spans, _correlation_id(request))
    log.info(
        "ingest.accepted",
        project_id=str(project_id),
        spans=len(decoded.spans),
        rejected=len(decoded.rejected),
    )


router = APIRouter()


@router.post("/v1/traces", tags=["ingest"], summary="OTLP/HTTP trace export")
async def otlp_traces(request: Request) -> Response:
    service = _service(request)
    # Authenticate before reading the body: an unauthenticated client costs us nothing.
    viewer = await service.keys.require(request, Permission.INGEST)
    content_type = media_type(request)
    if content_type not in (*PROTOBUF_TYPES, JSON_TYPE):
        raise UnsupportedMediaType(
            f"content-type '{content_type}' is not supported: use application/x-protobuf or application/json"
        )
    body = await read_body(request, service.settings.max_body_bytes)
    is_protobuf = content_type in PROTOBUF_TYPES
    export = otlp.parse_protobuf(body) if is_protobuf else otlp.parse_json(body)
    decoded = otlp.to_records(export)
    await _accept(request, viewer.project_id, decoded)
    response = ExportTraceServiceResponse()
    if decoded.rejected:
        response.partial_success.rejected_spans = len(decoded.rejected)
        response.partial_success.error_message = "; ".join(
            f"span {r.index} ({r.span_id or 'no id'}): {r.error}" for r in decoded.rejected[:20]
        )
    if is_protobuf:
        return Response(response.SerializeToString(), media_type="application/x-protobuf")
    return Response(json_format.MessageToJson(response), media_type=JSON_TYPE)


@router.post("/api/v1/traces", tags=["ingest"], summary="Native JSON trace batch")
async def native_traces(request: Request) -> Response:
    service = _service(request)
    viewer = await service.keys.require(request, Permission.INGEST)
    if media_type(request) != JSON_TYPE:
        raise UnsupportedMediaType("content-type must be application/json")
    decoded = native.decode(await read_body(request, service.settings.max_body_bytes))
    rejected = [
        {"index": r.index, "span_id": r.span_id, "error": r.error} for r in decoded.rejected
    ]
    if not decoded.spans and rejected:
        raise InvalidBatch(f"no valid span in the batch: {rejected[0]['error']}")
    await _accept(request, viewer.project_id, decoded)
    return JSONResponse({"accepted": len(decoded.spans), "rejected": rejected})
