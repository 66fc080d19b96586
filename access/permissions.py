"""The one table that says what each API-key scope allows.

GraphQL permission classes (graph/permissions.py), REST dependencies and ingest all ask
this table, so a scope means the same thing everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum


class Permission(StrEnum):
    INGEST = "ingest"
    READ_TRACES = "read_traces"
    ANNOTATE = "annotate"
    TAG_TRACES = "tag_traces"
    DELETE_TRACES = "delete_traces"
    MANAGE_KEYS = "manage_keys"
    MANAGE_PROJECT = "manage_project"
    CREATE_PROJECTS = "create_projects"


SCOPE_PERMISSIONS: Mapping[str, frozenset[Permission]] = {
    "ingest": frozenset({Permission.INGEST}),
    "read": frozenset({Permission.READ_TRACES}),
    "annotate": frozenset({Permission.READ_TRACES, Permission.ANNOTATE, Permission.TAG_TRACES}),
    # Until people and roles exist, an admin key administers the server: it manages its
    # own project and may create new ones (each new project comes with its own key).
    "admin": frozenset(Permission),
}


def permissions_of(scopes: frozenset[str]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for scope in scopes:
        granted |= SCOPE_PERMISSIONS.get(scope, frozenset())
    return frozenset(granted)
