from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import strawberry
from strawberry import relay

from access.permissions import Permission
from graph.context import Info
from graph.ids import parse_scoped_node_id, scoped_node_id
from graph.nodes import load_nodes
from graph.types.ApiKeyScope import ApiKeyScope
from storage.api_keys import ApiKeyData

_KNOWN_SCOPES = frozenset(scope.value for scope in ApiKeyScope)


@strawberry.type(description="An API key of a project. Its secret is shown only at creation.")
class ApiKey(relay.Node):
    data: strawberry.Private[ApiKeyData]

    @classmethod
    def resolve_id(cls, root: ApiKey, *, info: Info) -> str:
        return scoped_node_id(root.data.key)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[ApiKey | None]:
        return await load_nodes(
            info,
            [parse_scoped_node_id(node_id, "API key") for node_id in node_ids],
            project_of=lambda k: k[0],
            permission=Permission.MANAGE_KEYS,
            loader=info.context.loaders.api_key_by_id,
            wrap=lambda data: ApiKey(data=data),
            required=required,
            what="API key",
        )

    @strawberry.field(description="The key's first characters, to tell keys apart.")
    def prefix(self) -> str:
        return self.data.prefix

    @strawberry.field
    def scopes(self) -> list[ApiKeyScope]:
        return [ApiKeyScope(s) for s in sorted(self.data.scopes) if s in _KNOWN_SCOPES]

    @strawberry.field
    def created_at(self) -> datetime:
        return self.data.created_at

    @strawberry.field(description="Null if the key does not expire.")
    def expires_at(self) -> datetime | None:
        return self.data.expires_at

    @strawberry.field
    def revoked_at(self) -> datetime | None:
        return self.data.revoked_at

    @strawberry.field
    def last_used_at(self) -> datetime | None:
        return self.data.last_used_at
