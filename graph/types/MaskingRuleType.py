from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="What a masking rule matches.")
class MaskingRuleType(Enum):
    KEY = strawberry.enum_value(
        "KEY",
        description="The value under a key matching `match` (a case-insensitive glob such"
        " as *password*), at any depth of attributes, input, output, metadata, events and"
        " error, replaced whole.",
    )
    EMAIL = strawberry.enum_value("EMAIL", description="Email addresses in any text.")
    API_KEY = strawberry.enum_value(
        "API_KEY",
        description="API keys and tokens of common providers (OpenAI, Anthropic, AWS,"
        " GitHub, Slack, Google, AgentTrace) and bearer tokens, in any text.",
    )
    CARD_NUMBER = strawberry.enum_value(
        "CARD_NUMBER", description="Payment card numbers that pass the Luhn check."
    )
    REGEX = strawberry.enum_value(
        "REGEX", description="Text matching `match`, a regular expression of your own."
    )
