from __future__ import annotations

import strawberry

from resolvers.analytics import GroupBy

AnalyticsGroupBy = strawberry.enum(GroupBy, description="What to group spans by.")
