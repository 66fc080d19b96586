from __future__ import annotations

import strawberry

from resolvers.paging import SortField as _SortField

SortField = strawberry.enum(_SortField, description="What to sort traces or spans by.")
