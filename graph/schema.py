"""The GraphQL schema, with the limits that keep any one query bounded."""

from __future__ import annotations

import re

import strawberry
import structlog
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.types import ExecutionContext
from strawberry.utils.logging import StrawberryLogger

from graph.errors import is_unexpected, mask_unexpected_errors
from graph.introspection import IntrospectionSwitch
from graph.mutations import Mutation
from graph.queries import Query
from graph.query_cost import QueryCostRule
from graph.rate_limits import cost_budget
from graph.response_cache import response_cache
from graph.subscriptions import Subscription

MAX_DEPTH = 12
MAX_ALIASES = 30
MAX_TOKENS = 5_000
DOCUMENT_CACHE_SIZE = 256
"""Distinct query texts whose parse and validation are kept (LRU): a client sends a few
documents again and again; unique ones from an abuser only evict each other."""

# The limiters' rule classes, made once. Each QueryDepthLimiter/MaxAliasesLimiter makes a
# new class, so a limiter built per request gave every request new validation rules and
# ValidationCache (keyed on the document and its rules) could never hit.
LIMIT_RULES = (
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    QueryCostRule,
)

log = structlog.get_logger(__name__)
_INVALID_VARIABLE = re.compile(r"Variable '(\$\w+)' (?:got|has) invalid (?:default )?value")


def _loggable(message: str) -> str:
    """A client error's message without the values of its variables: graphql-core quotes
    an invalid variable (a whole input object when a field is missing), and a variable
    may be a password or a token. The client sees the full message; the log does not."""
    invalid = _INVALID_VARIABLE.match(message)
    return f"Variable '{invalid[1]}' has an invalid value (not logged)" if invalid else message


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """A client's mistake is routine (one line, no stack); anything else is our bug
        and is logged with its stack before MaskErrors hides it from the client."""
        for error in errors:
            if is_unexpected(error):
                StrawberryLogger.error(error, execution_context)
            else:
                log.info("graphql.client_error", message=_loggable(error.message))


schema = Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    # Factories: strawberry builds fresh extension instances per request. The caches are
    # module-level LRUs shared by those instances: a document is parsed and validated
    # (every rule, the limits and the introspection switch included) once per distinct
    # text, rules and token limit; a cached validation keeps its errors too.
    extensions=[
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
        lambda: AddValidationRules(list(LIMIT_RULES)),
        IntrospectionSwitch,
        lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
        cost_budget,
        response_cache,
        mask_unexpected_errors,
    ],
)
