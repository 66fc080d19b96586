"""The caller of a query or mutation, as the API key they presented."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from access.permissions import Permission, permissions_of
from storage.projects import KeyGrant


@dataclass(frozen=True, slots=True)
class Viewer:
    key_id: uuid.UUID
    project_id: uuid.UUID
    permissions: frozenset[Permission]

    @classmethod
    def of(cls, grant: KeyGrant) -> Viewer:
        return cls(grant.key_id, grant.project_id, permissions_of(grant.scopes))

    @property
    def project_ids(self) -> frozenset[uuid.UUID]:
        """The projects this viewer may see at all."""
        return frozenset({self.project_id})

    def can(self, permission: Permission, project_id: uuid.UUID | None = None) -> bool:
        """Whether the viewer holds ``permission`` (on ``project_id`` when given)."""
        if permission not in self.permissions:
            return False
        return project_id is None or project_id in self.project_ids
