from __future__ import annotations

from enum import StrEnum

import strawberry


@strawberry.enum(description="The OpenTelemetry status code of a span.")
class SpanStatus(StrEnum):
    UNSET = "UNSET"
    OK = "OK"
    ERROR = "ERROR"
