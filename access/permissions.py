"""The one table that says who may do what: each role of a person in an organisation, and
each scope of an API key, maps to a set of permissions.

GraphQL permission classes (graph/permissions.py), REST dependencies and ingest all ask
this table, so a role or a scope means the same thing everywhere.
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
    DELETE_PROJECT = "delete_project"
    MANAGE_MEMBERS = "manage_members"
    MANAGE_OWNERS = "manage_owners"
    READ_AUDIT_LOG = "read_audit_log"


class Role(StrEnum):
    """A person's role in an organisation; it applies to every project of it."""

    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"
    VIEWER = "viewer"


_VIEWER = frozenset({Permission.READ_TRACES})
_MEMBER = _VIEWER | {Permission.ANNOTATE, Permission.TAG_TRACES}
_ADMIN = _MEMBER | {
    Permission.DELETE_TRACES,
    Permission.MANAGE_KEYS,
    Permission.MANAGE_PROJECT,
    Permission.CREATE_PROJECTS,
    Permission.MANAGE_MEMBERS,
    Permission.READ_AUDIT_LOG,
}
_OWNER = _ADMIN | {Permission.DELETE_PROJECT, Permission.MANAGE_OWNERS}

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.VIEWER: _VIEWER,
    Role.MEMBER: _MEMBER,
    Role.ADMIN: _ADMIN,
    Role.OWNER: _OWNER,
}

# Permissions that act on an organisation rather than on one project.
ORGANIZATION_PERMISSIONS = frozenset(
    {
        Permission.CREATE_PROJECTS,
        Permission.MANAGE_MEMBERS,
        Permission.MANAGE_OWNERS,
        Permission.READ_AUDIT_LOG,
    }
)
# People-only: no API key may manage people or read the audit log.
PEOPLE_ONLY = frozenset(
    {Permission.MANAGE_MEMBERS, Permission.MANAGE_OWNERS, Permission.READ_AUDIT_LOG}
)

SCOPE_PERMISSIONS: Mapping[str, frozenset[Permission]] = {
    "ingest": frozenset({Permission.INGEST}),
    "read": frozenset({Permission.READ_TRACES}),
    "annotate": frozenset({Permission.READ_TRACES, Permission.ANNOTATE, Permission.TAG_TRACES}),
    # For automation: everything a project's owner may do to projects, data and keys in
    # its organisation, but nothing about people.
    "admin": frozenset(Permission) - PEOPLE_ONLY,
}


def permissions_of(scopes: frozenset[str]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for scope in scopes:
        granted |= SCOPE_PERMISSIONS.get(scope, frozenset())
    return frozenset(granted)
