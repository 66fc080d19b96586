"""Permission classes: each asks the one permission table (access/permissions.py) whether
the caller may use a field at all. Which project it may touch is checked where the
project is known (Context.project_for)."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from access.permissions import Permission
from graph.context import Info


class _Requires(BasePermission):
    permission: Permission

    @property
    def message(self) -> str:  # type: ignore[override]
        return f"this API key lacks the permission '{self.permission}'"

    async def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        viewer = await info.context.viewer()  # raises Unauthorized without a valid key
        return viewer.can(self.permission)


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
