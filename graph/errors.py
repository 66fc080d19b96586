"""Which errors a GraphQL client sees as they are: its own mistakes (UserError, GraphQL
validation and permission errors). Anything else is a bug on our side: the client gets
"Unexpected error." and the server log gets the stack."""

from __future__ import annotations

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from agenttrace.errors import UserError


def is_unexpected(error: GraphQLError) -> bool:
    original = error.original_error
    return not (original is None or isinstance(original, GraphQLError | UserError))


def mask_unexpected_errors() -> MaskErrors:
    return MaskErrors(should_mask_error=is_unexpected, error_message="Unexpected error.")
