"""Permission classes: each asks the one permission table (access/permissions.py) whether
the caller may use a field at all. Which project it may touch is checked where the
project is known (Context.project_for)."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from access.permissions import Permission
from agenttrace.errors import Forbidden
from graph.context import Info


class _Requires(BasePermission):
    permission: Permission

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        viewer = await info.context.viewer()  # raises Unauthorized without credentials
        if not viewer.can(self.permission):
            # Raised rather than returned: the error then carries the FORBIDDEN code and
            # says why for this caller (a key's scope, a person's role, a pending password).
            raise Forbidden(viewer.lacks(self.permission))
        return True


class CanReadTraces(_Requires):
    permission = Permission.READ_TRACES


class CanAnnotate(_Requires):
    permission = Permission.ANNOTATE


class CanTagTraces(_Requires):
    permission = Permission.TAG_TRACES


class CanDeleteTraces(_Requires):
    permission = Permission.DELETE_TRACES


class CanManageKeys(_Requires):
    permission = Permission.MANAGE_KEYS


class CanManageProject(_Requires):
    permission = Permission.MANAGE_PROJECT


class CanCreateProjects(_Requires):
    permission = Permission.CREATE_PROJECTS


class CanDeleteProject(_Requires):
    permission = Permission.DELETE_PROJECT


class CanManageMembers(_Requires):
    permission = Permission.MANAGE_MEMBERS


class CanReadAuditLog(_Requires):
    permission = Permission.READ_AUDIT_LOG


class IsServerAdmin(BasePermission):
    """Creating users and organisations: server administrators only."""

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        viewer = await info.context.viewer()
        if not viewer.is_admin or viewer.must_change_password:
            raise Forbidden(
                viewer.lacks(Permission.MANAGE_MEMBERS)
                if viewer.must_change_password
                else "only a server administrator may do this"
            )
        return True
