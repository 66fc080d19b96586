from __future__ import annotations

import strawberry

from resolvers.analytics import TimeBucket as _TimeBucket

TimeBucket = strawberry.enum(
    _TimeBucket, description="The width of an analytics bucket, aligned to the UTC clock."
)
