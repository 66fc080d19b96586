"""``/graphql`` on FastAPI: queries over HTTP, subscriptions over WebSocket
(graphql-transport-ws and the legacy graphql-ws), GraphiQL when opened in a browser."""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection
from strawberry.fastapi import GraphQLRouter
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from graph.context import Context
from graph.schema import schema


async def _context(connection: HTTPConnection) -> Context:
    return context_of(connection.app.state)


def context_of(state: Any) -> Context:
    """A request's context from the app's state (what the lifespan set up)."""
    return Context(
        settings=state.settings,
        engine=state.query_engine,
        write_engine=state.engine,
        auth=state.auth,
        live=state.live,
        cache=state.cache,
    )


def graphql_router() -> GraphQLRouter[Context, None]:
    return GraphQLRouter(
        schema,
        path="/graphql",
        context_getter=_context,
        graphql_ide="graphiql",
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
    )
