from __future__ import annotations

import strawberry


@strawberry.type
class CreateUserPayload:
    user_id: strawberry.ID
    email: str
    one_time_password: str | None = strawberry.field(
        description="Shown this once when no password was given; the user must change it"
        " at first login."
    )
