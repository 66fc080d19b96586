"""The GraphQL schema, with the limits that keep any one query bounded."""

from __future__ import annotations

import strawberry
from strawberry.extensions import MaxAliasesLimiter, MaxTokensLimiter, QueryDepthLimiter

from graph.errors import mask_unexpected_errors
from graph.queries import Query

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5_000

schema = strawberry.Schema(
    query=Query,
    # Factories: strawberry builds fresh extension instances per request.
    extensions=[
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        mask_unexpected_errors,
    ],
)
