"""Loads Relay nodes by key for ``node(id:)``: only those the caller may see, so another
project's id answers exactly like a missing one."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

import strawberry
from strawberry import relay
from strawberry.dataloader import DataLoader
from strawberry.extensions import FieldExtension

from access.permissions import Permission
from agenttrace.errors import InvalidArgument, NotFound
from graph.context import Info

K = TypeVar("K", bound=Hashable)
D = TypeVar("D")
N = TypeVar("N")


async def load_nodes(
    info: Info,
    keys: list[K],
    *,
    project_of: Callable[[K], uuid.UUID],
    permission: Permission,
    loader: DataLoader[K, D | None],
    wrap: Callable[[D], N],
    required: bool,
    what: str,
) -> list[N | None]:
    """One node (or None) per key, in order; NotFound if ``required`` and any is None."""
    viewer = await info.context.viewer()
    visible = [key for key in keys if viewer.can(permission, project_of(key))]
    found = dict(zip(visible, await loader.load_many(visible), strict=True))
    nodes = [wrap(data) if (data := found.get(key)) is not None else None for key in keys]
    if required and any(node is None for node in nodes):
        raise NotFound(f"no such {what}")
    return nodes


def _check_node_types(info: strawberry.Info, arguments: dict[str, Any]) -> None:
    for value in arguments.values():
        for global_id in value if isinstance(value, list) else [value]:
            if not isinstance(global_id, relay.GlobalID):
                continue
            try:
                global_id.resolve_type(info)
            except relay.GlobalIDValueError:
                raise InvalidArgument(
                    f"id {str(global_id)!r} is not the id of an object:"
                    f" {global_id.type_name!r} is not a type with ids"
                ) from None


class NodeTypeCheck(FieldExtension):
    """For ``node``/``nodes``: a well-formed global id whose type is unknown or has no ids
    (``Query:abc``) is the client's InvalidArgument. Left to strawberry it would be a
    plain ValueError, masked as "Unexpected error."; an id that is not base64 at all is
    already a GraphQL input error."""

    def resolve(
        self, next_: Callable[..., Any], source: Any, info: strawberry.Info, **kwargs: Any
    ) -> Any:
        _check_node_types(info, kwargs)
        return next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: Callable[..., Any], source: Any, info: strawberry.Info, **kwargs: Any
    ) -> Any:
        _check_node_types(info, kwargs)
        result = next_(source, info, **kwargs)
        return await result if inspect.isawaitable(result) else result
