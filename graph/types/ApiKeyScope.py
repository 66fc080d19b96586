from __future__ import annotations

from enum import StrEnum

import strawberry


@strawberry.enum(
    description="What an API key may do; each scope's permissions are in access/permissions.py."
)
class ApiKeyScope(StrEnum):
    """The keys of access.permissions.SCOPE_PERMISSIONS (a test keeps them equal)."""

    INGEST = "ingest"
    READ = "read"
    ANNOTATE = "annotate"
    ADMIN = "admin"
