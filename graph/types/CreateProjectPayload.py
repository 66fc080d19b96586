from __future__ import annotations

import strawberry

from graph.types.ApiKey import ApiKey
from graph.types.Project import Project


@strawberry.type(
    description="A new project and its first API key (all scopes), whose secret is shown"
    " this once, never again."
)
class CreateProjectPayload:
    project: Project
    api_key: ApiKey
    secret: str = strawberry.field(description="Send it as 'Authorization: Bearer <secret>'.")
