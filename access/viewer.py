"""The caller of a request: a project API key or a signed-in person, with what they may
do in each project and organisation they can see."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from access.permissions import ORGANIZATION_PERMISSIONS, Permission, permissions_of
from storage.projects import KeyGrant

NO_PERMISSIONS: frozenset[Permission] = frozenset()


@dataclass(frozen=True, slots=True)
class Viewer:
    principal: str
    """Who is calling, as a stable string ("key:<id>" or "user:<id>"): the identity rate
    limits count against and the audit log names."""
    projects: Mapping[uuid.UUID, frozenset[Permission]]
    """Every project the caller may see, with what it may do there."""
    organizations: Mapping[uuid.UUID, frozenset[Permission]]
    """The organisations the caller acts in, with what it may do there as a whole."""
    key_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    is_admin: bool = False
    """A server administrator: may create users and organisations."""
    expires_at: float | None = None
    """Unix time the credential stops being valid (an access token's expiry)."""
    must_change_password: bool = False
    """Signed in with a one-time password: may only change it."""
    email: str | None = field(default=None, compare=False)

    @classmethod
    def of_key(cls, grant: KeyGrant) -> Viewer:
        permissions = permissions_of(grant.scopes)
        return cls(
            principal=f"key:{grant.key_id}",
            projects={grant.project_id: permissions},
            organizations={grant.organization_id: permissions & ORGANIZATION_PERMISSIONS},
            key_id=grant.key_id,
        )

    @property
    def is_person(self) -> bool:
        return self.user_id is not None

    @property
    def project_ids(self) -> frozenset[uuid.UUID]:
        """The projects this viewer may see at all."""
        return frozenset(self.projects)

    @property
    def permissions(self) -> frozenset[Permission]:
        """Everything the viewer may do somewhere."""
        granted: set[Permission] = set()
        for permissions in (*self.projects.values(), *self.organizations.values()):
            granted |= permissions
        return frozenset(granted)

    def can(self, permission: Permission, project_id: uuid.UUID | None = None) -> bool:
        """Whether the viewer holds ``permission`` (in ``project_id`` when given, else in
        some project or organisation)."""
        if project_id is None:
            return permission in self.permissions
        return permission in self.projects.get(project_id, NO_PERMISSIONS)

    def can_in_organization(self, permission: Permission, organization_id: uuid.UUID) -> bool:
        return permission in self.organizations.get(organization_id, NO_PERMISSIONS)

    def lacks(self, permission: Permission) -> str:
        """Why the viewer may not: the message of a refusal."""
        if self.must_change_password:
            return "change your one-time password first (POST /api/v1/auth/password)"
        if self.is_person:
            return f"your role does not allow '{permission}'"
        return f"this API key lacks the permission '{permission}'"

    @property
    def project_id(self) -> uuid.UUID:
        """An API key's one project (REST and ingest without a project parameter)."""
        if len(self.projects) != 1:
            raise ValueError("this viewer sees several projects")
        return next(iter(self.projects))
