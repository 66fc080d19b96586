from __future__ import annotations

import strawberry

from graph.types.MaskingRuleType import MaskingRuleType


@strawberry.input(description="A masking rule: a type, and `match` for KEY and REGEX.")
class MaskingRuleInput:
    type: MaskingRuleType
    match: str | None = None

    def as_json(self) -> dict[str, str]:
        return {"type": str(self.type.value)} | (
            {} if self.match is None else {"match": self.match}
        )
