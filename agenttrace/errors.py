"""The errors a caller can cause, in one small hierarchy.

Each maps to one HTTP status (the REST and ingest handlers in agenttrace/apps.py) and to
one GraphQL error code (graph/errors.py). Their messages are written for the caller:
they name the problem and never carry a stack trace or a secret.
"""

from __future__ import annotations

from collections.abc import Mapping


class UserError(Exception):
    status_code = 400
    code = "BAD_REQUEST"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail

    @property
    def extensions(self) -> dict[str, str]:
        """GraphQL errors carry the code (graphql-core reads this attribute)."""
        return {"code": self.code}


class InvalidArgument(UserError):
    status_code = 400
    code = "INVALID_ARGUMENT"


class Unauthorized(UserError):
    status_code = 401
    code = "UNAUTHENTICATED"


class Forbidden(UserError):
    status_code = 403
    code = "FORBIDDEN"


class NotFound(UserError):
    status_code = 404
    code = "NOT_FOUND"


class Conflict(UserError):
    status_code = 409
    code = "CONFLICT"


class RateLimited(UserError):
    """Over a rate limit (access/rate_limits.py): 429, with Retry-After and the
    X-RateLimit-* headers of the limit that refused."""

    status_code = 429
    code = "RATE_LIMITED"

    def __init__(self, detail: str, *, headers: Mapping[str, str]) -> None:
        super().__init__(detail)
        self.headers = dict(headers)


class Unavailable(UserError):
    """A dependency is down and nothing was done: 503 with Retry-After, so the client
    retries (our SDK and OpenTelemetry exporters do) instead of losing data."""

    status_code = 503
    code = "UNAVAILABLE"

    def __init__(self, detail: str, *, retry_after_s: int = 5) -> None:
        super().__init__(detail)
        self.headers = {"Retry-After": str(retry_after_s)}
