"""``/graphql`` on FastAPI: queries over HTTP, subscriptions over WebSocket
(graphql-transport-ws and the legacy graphql-ws), GraphiQL when opened in a browser."""

from __future__ import annotations

import json
from typing import Any

import orjson
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


class Router(GraphQLRouter[Context, None]):
    """Strawberry's router with orjson for the JSON of requests and answers: several
    times faster than the standard library's, which showed in every query's profile, and
    it writes a cached answer's bytes as they are (graph/response_cache.py)."""

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    def encode_json(self, data: object) -> str:
        # Text, not bytes: the WebSocket transports send bytes as binary frames, which
        # GraphQL-over-WebSocket clients refuse.
        try:
            return orjson.dumps(data).decode()
        except orjson.JSONEncodeError:
            # What orjson refuses and JSON allows: integers past 64 bits in a JSON field.
            return json.dumps(data, separators=(",", ":"))


def graphql_router() -> GraphQLRouter[Context, None]:
    return Router(
        schema,
        path="/graphql",
        context_getter=_context,
        graphql_ide="graphiql",
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
    )
