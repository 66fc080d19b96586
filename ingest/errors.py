"""The errors a client can cause, each mapped to one HTTP status in ingest/routes.py."""

from __future__ import annotations


class IngestError(Exception):
    status_code = 400

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class MalformedBody(IngestError):
    status_code = 400


class UnsupportedMediaType(IngestError):
    status_code = 415


class BodyTooLarge(IngestError):
    status_code = 413


class InvalidBatch(IngestError):
    """The body parsed, but is not a valid batch (or holds no valid span)."""

    status_code = 422


class Unauthorized(IngestError):
    status_code = 401
