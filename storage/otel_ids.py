"""Bit-exact conversions between OTel ids and their database columns.

A trace id (16 bytes) is a UUID; a span id (8 bytes) is a signed BIGINT holding the same
64 bits. The API shows both as lowercase hex, as OpenTelemetry does.
"""

from __future__ import annotations

import uuid

_SIGN = 1 << 63
_WRAP = 1 << 64


class InvalidId(ValueError):
    pass


def trace_id_from_hex(value: str) -> uuid.UUID:
    if len(value) != 32:
        raise InvalidId(f"trace id must be 32 hex characters, got {len(value)}")
    try:
        as_int = int(value, 16)
    except ValueError:
        raise InvalidId("trace id is not hex") from None
    if as_int == 0:
        raise InvalidId("trace id is all zeros")
    return uuid.UUID(int=as_int)


def span_id_from_hex(value: str) -> int:
    if len(value) != 16:
        raise InvalidId(f"span id must be 16 hex characters, got {len(value)}")
    try:
        as_int = int(value, 16)
    except ValueError:
        raise InvalidId("span id is not hex") from None
    if as_int == 0:
        raise InvalidId("span id is all zeros")
    return as_int - _WRAP if as_int >= _SIGN else as_int


def trace_id_to_hex(value: uuid.UUID) -> str:
    return value.hex


def span_id_to_hex(value: int) -> str:
    return format(value % _WRAP, "016x")
