"""The real app in this process on a given database, and GraphQL subscriptions opened on
it directly (as the WebSocket handler does after connection_init), for the access tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
from graphql import ExecutionResult

from agenttrace.apps import Roles, build_app
from agenttrace.settings import Settings
from graph.router import context_of
from graph.schema import schema

QUERY_API = Roles(query=True)


@contextlib.asynccontextmanager
async def running_app(
    settings: Settings, roles: Roles = QUERY_API
) -> AsyncIterator[tuple[httpx.AsyncClient, Any]]:
    """An HTTP client on the started app, and the app (for its state)."""
    assert settings.database_url is not None
    app = build_app(settings, settings.database_url, roles)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client, app


async def first_subscription_result(
    app: Any, token: str, document: str, variables: dict[str, Any]
) -> ExecutionResult:
    """What a subscription sends first (an error, when it is refused or ends)."""
    context = context_of(app.state)
    context.connection_params = {"Authorization": f"Bearer {token}"}
    stream = await schema.subscribe(document, variable_values=variables, context_value=context)
    if isinstance(stream, ExecutionResult):
        return stream
    try:
        return await anext(stream)
    finally:
        await stream.aclose()
