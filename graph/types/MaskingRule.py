from __future__ import annotations

import strawberry

from graph.types.MaskingRuleType import MaskingRuleType
from masking.rules import MaskingRule as Rule


@strawberry.type(
    description="A masking rule of a project: the storage worker masks what it matches"
    " in every span before storing it."
)
class MaskingRule:
    type: MaskingRuleType
    match: str | None = strawberry.field(
        description="The key glob (KEY) or regular expression (REGEX); null for the"
        " built-in detectors."
    )

    @classmethod
    def of(cls, rule: Rule) -> MaskingRule:
        return cls(type=MaskingRuleType(rule.type.value), match=rule.match)
