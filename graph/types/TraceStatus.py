from __future__ import annotations

from enum import StrEnum

import strawberry


@strawberry.enum(description="ERROR if any span failed; RUNNING while a span is open.")
class TraceStatus(StrEnum):
    OK = "OK"
    ERROR = "ERROR"
    RUNNING = "RUNNING"
