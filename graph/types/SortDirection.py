from __future__ import annotations

import strawberry

from resolvers.paging import SortDirection as _SortDirection

SortDirection = strawberry.enum(_SortDirection)
