from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry
from strawberry import relay

from resolvers.paging import Page

NodeType = TypeVar("NodeType")
Data = TypeVar("Data")


@strawberry.type
class Edge(Generic[NodeType]):
    cursor: str
    node: NodeType


@strawberry.type(description="A page of a list; pass pageInfo.endCursor as `after` for the next.")
class Connection(Generic[NodeType]):
    """Strawberry names each use after its node: TraceConnection, SpanConnection."""

    edges: list[Edge[NodeType]]
    page_info: relay.PageInfo

    @strawberry.field(description="The page's nodes, without their cursors.")
    def nodes(self) -> list[NodeType]:
        return [edge.node for edge in self.edges]


def connection_of(page: Page[Data], wrap: Callable[[Data], NodeType]) -> Connection[NodeType]:
    return Connection(
        edges=[
            Edge(cursor=cursor, node=wrap(item))
            for item, cursor in zip(page.items, page.cursors, strict=True)
        ],
        page_info=relay.PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.end_cursor,
        ),
    )
