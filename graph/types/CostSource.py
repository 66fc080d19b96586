from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="Where a span's cost came from.")
class CostSource(Enum):
    CLIENT = strawberry.enum_value("CLIENT", description="Sent by the client; never replaced.")
    PROJECT_PRICE = strawberry.enum_value(
        "PROJECT_PRICE", description="Priced by the server with the project's own price."
    )
    BUNDLED_PRICE = strawberry.enum_value(
        "BUNDLED_PRICE", description="Priced by the server with the bundled price table."
    )
    UNKNOWN_MODEL = strawberry.enum_value(
        "UNKNOWN_MODEL",
        description="A model call with tokens whose model no price table knows: no cost"
        " (price unknown), rather than $0. Add the model with setModelPrice.",
    )
