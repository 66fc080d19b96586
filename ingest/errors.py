"""The errors an ingest client can cause; each is a UserError with its HTTP status."""

from __future__ import annotations

from agenttrace.errors import InvalidArgument, Unauthorized, UserError

IngestError = UserError
__all__ = [
    "BodyTooLarge",
    "IngestError",
    "InvalidBatch",
    "MalformedBody",
    "Unauthorized",
    "UnsupportedMediaType",
]


class MalformedBody(InvalidArgument):
    status_code = 400


class UnsupportedMediaType(UserError):
    status_code = 415
    code = "UNSUPPORTED_MEDIA_TYPE"


class BodyTooLarge(UserError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"


class InvalidBatch(UserError):
    """The body parsed, but is not a valid batch (or holds no valid span)."""

    status_code = 422
    code = "INVALID_BATCH"
