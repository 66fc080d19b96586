"""Applies compiled masking rules to JSON values: every string is passed through the
text rules, and the value under a matching key is replaced whole."""

from __future__ import annotations

from typing import Any

from masking.rules import CompiledRules

MASKED_VALUE = "[MASKED]"


def masked(value: Any, rules: CompiledRules) -> Any:
    """``value`` with what the rules match masked; the same object when nothing matched
    (so unmasked spans cost no copies)."""
    if isinstance(value, str):
        return rules.mask_text(value) if rules.text else value
    if isinstance(value, dict):
        changed = False
        out: dict[str, Any] = {}
        for key, item in value.items():
            new = MASKED_VALUE if rules.key_matches(str(key)) else masked(item, rules)
            changed = changed or new is not item
            out[key] = new
        return out if changed else value
    if isinstance(value, list):
        items = [masked(item, rules) for item in value]
        return items if any(a is not b for a, b in zip(items, value, strict=True)) else value
    return value
