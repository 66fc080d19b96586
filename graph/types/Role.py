from __future__ import annotations

from enum import Enum

import strawberry

from access.permissions import Role as AccessRole


@strawberry.enum(description="A person's role in an organisation, for all its projects.")
class Role(Enum):
    OWNER = AccessRole.OWNER.value
    ADMIN = AccessRole.ADMIN.value
    MEMBER = AccessRole.MEMBER.value
    VIEWER = AccessRole.VIEWER.value
