"""Loads Relay nodes by key for ``node(id:)``: only those the caller may see, so another
project's id answers exactly like a missing one."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable
from typing import TypeVar

from strawberry.dataloader import DataLoader

from access.permissions import Permission
from agenttrace.errors import NotFound
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
