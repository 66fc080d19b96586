from __future__ import annotations

import strawberry

from graph.types.ApiKey import ApiKey


@strawberry.type(description="A new API key, with its secret: shown this once, never again.")
class CreateApiKeyPayload:
    api_key: ApiKey
    secret: str = strawberry.field(description="Send it as 'Authorization: Bearer <secret>'.")
