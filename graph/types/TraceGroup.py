from __future__ import annotations

from datetime import datetime

import strawberry

from resolvers.projects import TraceGroup as TraceGroupData


@strawberry.type(description="The traces that share a session id (or a user id).")
class TraceGroup:
    data: strawberry.Private[TraceGroupData]

    @strawberry.field(description="The session id or user id.")
    def id(self) -> str:
        return self.data.key

    @strawberry.field
    def trace_count(self) -> int:
        return self.data.trace_count

    @strawberry.field
    def error_count(self) -> int:
        return self.data.error_count

    @strawberry.field
    def total_tokens(self) -> int:
        return self.data.total_tokens

    @strawberry.field
    def cost(self) -> float:
        return self.data.cost

    @strawberry.field
    def first_seen(self) -> datetime:
        return self.data.first_seen

    @strawberry.field
    def last_seen(self) -> datetime:
        return self.data.last_seen
