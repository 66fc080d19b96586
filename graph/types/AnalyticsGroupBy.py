from __future__ import annotations

import strawberry

from resolvers.analytics import GroupBy

AnalyticsGroupBy = strawberry.enum(
    GroupBy, name="AnalyticsGroupBy", description="What to group a time range's spans by."
)
