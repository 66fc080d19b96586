from __future__ import annotations

from datetime import datetime

import strawberry

from graph.types.AnalyticsTotals import AnalyticsTotals


@strawberry.type(
    description="One step of an analytics time series: the traces and spans that started"
    " in [start, end). Empty buckets are there too, with zero counts and null percentiles."
    " The first and last buckets count only what falls inside the asked time range."
)
class AnalyticsBucket(AnalyticsTotals):
    start: datetime
    end: datetime
