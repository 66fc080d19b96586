"""A project's masking rules: what they are, how they are checked and compiled.

Stored as JSON in ``projects.masking_rules`` (migration 0006), a list of objects:

- ``{"type": "KEY", "match": "user.email"}``: the value under a matching key, at any
  depth of a span's attributes, input, output, metadata, events and error, is replaced
  whole. ``match`` is a glob (``*password*``, ``http.request.header.*``), case-insensitive.
- ``{"type": "EMAIL" | "API_KEY" | "CARD_NUMBER"}``: a built-in detector, applied to
  every string (and the span's name and status message). Card numbers must pass the Luhn
  check, so order ids and timestamps are not masked.
- ``{"type": "REGEX", "match": "ACME-\\d{6}"}``: a regular expression of your own, in RE2's
  syntax (Python's, without backreferences and lookarounds).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import re2


class RuleType(StrEnum):
    KEY = "KEY"
    EMAIL = "EMAIL"
    API_KEY = "API_KEY"
    CARD_NUMBER = "CARD_NUMBER"
    REGEX = "REGEX"


class InvalidRule(ValueError):
    """A rule that cannot be used; the message says which and why."""


MAX_RULES = 50
MAX_PATTERN_LENGTH = 500

# RE2, not Python's re: matching time is linear in the text whatever the pattern, so no
# rule (a project admin's own expression included) can stall a worker on a crafted span,
# and even the built-in email pattern, which backtracks quadratically in re over a long run
# of letters without an "@", stays fast on 32 KB payloads.
_EMAIL = re2.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_API_KEY = re2.compile(
    r"\b(?:sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}"  # OpenAI, Anthropic
    r"|AKIA[0-9A-Z]{16}"  # AWS access key id
    r"|gh[pousr]_[A-Za-z0-9]{30,}"  # GitHub tokens
    r"|xox[abposr]-[A-Za-z0-9-]{10,}"  # Slack tokens
    r"|AIza[0-9A-Za-z_-]{35}"  # Google API keys
    r"|at_(?:live|test)_[A-Za-z0-9]{20,})"  # AgentTrace keys
)
_BEARER = re2.compile(r"Bearer [A-Za-z0-9._~+/-]{20,}=*")
# A whole run of digits, spaces and dashes: a card number inside a longer number is not one.
_CARD_CANDIDATE = re2.compile(r"\d[\d -]{11,}\d")


def _luhn(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _mask_cards(text: str) -> str:
    def replace(match: Any) -> str:
        found: str = match.group()
        digits = "".join(c for c in found if c.isdigit())
        if 13 <= len(digits) <= 19 and "  " not in found and _luhn(digits):
            return "[MASKED:CARD_NUMBER]"
        return found

    return str(_CARD_CANDIDATE.sub(replace, text))


def _mask_api_keys(text: str) -> str:
    text = _API_KEY.sub("[MASKED:API_KEY]", text)
    return str(_BEARER.sub("Bearer [MASKED:API_KEY]", text))


@dataclass(frozen=True, slots=True)
class MaskingRule:
    type: RuleType
    match: str | None = None

    def as_json(self) -> dict[str, str]:
        return {"type": self.type.value} | ({"match": self.match} if self.match else {})


@dataclass(frozen=True, slots=True)
class CompiledRules:
    """Rules ready to apply: key globs and text substitutions."""

    keys: tuple[str, ...] = ()
    text: tuple[Callable[[str], str], ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not self.keys and not self.text

    def key_matches(self, key: str) -> bool:
        lowered = key.lower()
        return any(fnmatch.fnmatchcase(lowered, glob) for glob in self.keys)

    def mask_text(self, value: str) -> str:
        for substitute in self.text:
            value = substitute(value)
        return value


def _substitution(pattern: Any, label: str) -> Callable[[str], str]:
    replacement = f"[MASKED:{label}]"
    return lambda text: str(pattern.sub(replacement, text))


def parse_rules(value: Any) -> list[MaskingRule]:
    """Rules from JSON (the column, or a GraphQL argument); InvalidRule names the first
    problem. A rule's pattern is compiled here, so a bad one is refused when it is set,
    never when a span arrives."""
    if value is None:
        return []
    if not isinstance(value, Sequence) or isinstance(value, str | bytes):
        raise InvalidRule("masking rules are a list")
    if len(value) > MAX_RULES:
        raise InvalidRule(f"at most {MAX_RULES} masking rules")
    rules = []
    for number, item in enumerate(value, start=1):
        if not isinstance(item, Mapping):
            raise InvalidRule(f"rule {number} must be an object")
        try:
            rule_type = RuleType(str(item.get("type", "")).upper())
        except ValueError:
            raise InvalidRule(
                f"rule {number}: type must be one of {', '.join(t.value for t in RuleType)}"
            ) from None
        match = item.get("match")
        if rule_type in (RuleType.KEY, RuleType.REGEX):
            if not isinstance(match, str) or not match.strip():
                raise InvalidRule(f"rule {number}: a {rule_type.value} rule needs `match`")
            if len(match) > MAX_PATTERN_LENGTH:
                raise InvalidRule(f"rule {number}: `match` is over {MAX_PATTERN_LENGTH} characters")
            if rule_type is RuleType.REGEX:
                try:
                    compiled = re2.compile(match)
                except re2.error as exc:
                    reason = (
                        exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
                    )
                    raise InvalidRule(
                        f"rule {number}: not a regular expression RE2 accepts"
                        f" (no backreferences or lookarounds): {reason}"
                    ) from None
                if compiled.search(""):
                    raise InvalidRule(f"rule {number}: the expression matches empty text")
        elif match is not None:
            raise InvalidRule(f"rule {number}: a {rule_type.value} rule takes no `match`")
        rules.append(MaskingRule(rule_type, match.strip() if isinstance(match, str) else None))
    return rules


def stored_rules(value: Any) -> list[MaskingRule]:
    """The rules of a stored value, each checked on its own: rules were checked when they
    were set, and one no longer valid (say, a newer server's rule type) is skipped so the
    rest still mask, rather than failing every span of the project."""
    rules: list[MaskingRule] = []
    for item in value if isinstance(value, list) else []:
        try:
            rules += parse_rules([item])
        except InvalidRule:
            continue
    return rules


def compile_rules(rules: Sequence[MaskingRule]) -> CompiledRules:
    keys: list[str] = []
    text: list[Callable[[str], str]] = []
    for rule in rules:
        if rule.type is RuleType.KEY and rule.match:
            keys.append(rule.match.lower())
        elif rule.type is RuleType.EMAIL:
            text.append(_substitution(_EMAIL, "EMAIL"))
        elif rule.type is RuleType.API_KEY:
            text.append(_mask_api_keys)
        elif rule.type is RuleType.CARD_NUMBER:
            text.append(_mask_cards)
        elif rule.type is RuleType.REGEX and rule.match:
            text.append(_substitution(re2.compile(rule.match), "REGEX"))
    return CompiledRules(tuple(keys), tuple(text))
