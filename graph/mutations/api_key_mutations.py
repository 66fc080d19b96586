"""Creating and revoking a project's API keys."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import strawberry
from strawberry import relay

from access.permissions import Permission, permissions_of
from access.viewer import Viewer
from agenttrace.errors import Forbidden, InvalidArgument, NotFound
from graph.context import Info
from graph.ids import node_id_of, parse_scoped_node_id, parse_uuid
from graph.permissions import CanManageKeys
from graph.types.ApiKey import ApiKey
from graph.types.ApiKeyScope import ApiKeyScope
from graph.types.CreateApiKeyPayload import CreateApiKeyPayload
from storage import audit
from storage.api_keys import create_api_key, revoke_api_key


def _key_permissions_of(viewer: Viewer, project: uuid.UUID) -> frozenset[Permission]:
    """What the caller may hand to a key of ``project``: its own permissions there, where a
    person managing keys may also grant ingest (people never ingest themselves)."""
    own = viewer.projects.get(project, frozenset())
    if viewer.is_person and Permission.MANAGE_KEYS in own:
        return own | {Permission.INGEST}
    return own


def _expiry(expires_at: datetime | None) -> datetime | None:
    if expires_at is None:
        return None
    if expires_at.tzinfo is None:
        raise InvalidArgument("expiresAt needs a time zone, e.g. 2027-01-01T00:00Z")
    if expires_at <= datetime.now(UTC):
        raise InvalidArgument("expiresAt must be in the future")
    return expires_at


@strawberry.type
class ApiKeyMutationMixin:
    @strawberry.mutation(
        permission_classes=[CanManageKeys],
        description="A new API key of the project; its secret is in the answer, this once."
        " A key cannot make a key that may do more than itself.",
    )
    async def create_api_key(
        self,
        info: Info,
        project_id: relay.GlobalID,
        scopes: list[ApiKeyScope],
        expires_at: datetime | None = None,
    ) -> CreateApiKeyPayload:
        project = parse_uuid(node_id_of(project_id, "Project", "projectId"), "project")
        project = await info.context.project_for(project, Permission.MANAGE_KEYS)
        if not scopes:
            raise InvalidArgument("scopes must name at least one scope")
        names = frozenset(scope.value for scope in scopes)
        viewer = await info.context.viewer()
        if beyond := permissions_of(names) - _key_permissions_of(viewer, project):
            raise Forbidden(
                "you cannot create a key that may do more than you may in this project;"
                " you lack " + ", ".join(sorted(beyond))
            )
        created = await create_api_key(
            info.context.write_engine,
            project,
            sorted(names),
            _expiry(expires_at),
            created_by=viewer.user_id,
        )
        if created is None:
            raise NotFound("no such project")
        await audit.record(
            info.context.write_engine,
            viewer.principal,
            "api_key.created",
            project_id=project,
            target=f"api_key:{created.data.id}",
            details={"prefix": created.data.prefix, "scopes": sorted(names)},
        )
        info.context.refresh_loaders()
        return CreateApiKeyPayload(api_key=ApiKey(data=created.data), secret=created.secret)

    @strawberry.mutation(
        permission_classes=[CanManageKeys],
        description="Revokes an API key: it stops working at once on this server, and within"
        " seconds on every other.",
    )
    async def revoke_api_key(self, info: Info, id: relay.GlobalID) -> ApiKey:
        key = parse_scoped_node_id(node_id_of(id, "ApiKey", "id"), "API key")
        viewer = await info.context.viewer()
        revoked = (
            await revoke_api_key(info.context.write_engine, key)
            if viewer.can(Permission.MANAGE_KEYS, key[0])
            else None
        )
        if revoked is None:
            raise NotFound("no such API key")
        await audit.record(
            info.context.write_engine,
            viewer.principal,
            "api_key.revoked",
            project_id=revoked.project_id,
            target=f"api_key:{revoked.id}",
            details={"prefix": revoked.prefix},
        )
        info.context.auth.forget_key(revoked.id)
        info.context.refresh_loaders()
        return ApiKey(data=revoked)
