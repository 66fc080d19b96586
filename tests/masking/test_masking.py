"""Masking rules: what each one removes, what it leaves, and which rules are refused."""

from __future__ import annotations

from typing import Any

import pytest

from masking.apply import MASKED_VALUE, masked
from masking.rules import InvalidRule, compile_rules, parse_rules


def _mask(rules: list[dict[str, Any]], value: Any) -> Any:
    return masked(value, compile_rules(parse_rules(rules)))


def test_emails_are_masked_inside_any_string_at_any_depth() -> None:
    value = {"messages": [{"role": "user", "content": "mail ada.lovelace+x@example.co.uk now"}]}
    assert _mask([{"type": "EMAIL"}], value) == {
        "messages": [{"role": "user", "content": "mail [MASKED:EMAIL] now"}]
    }


def test_api_keys_of_common_providers_are_masked() -> None:
    text = (
        "openai sk-proj-abcdefghijklmnopqrstuv anthropic sk-ant-api03-abcdefghijklmnop"
        " aws AKIAIOSFODNN7EXAMPLE header Bearer abcdefghijklmnopqrstuvwxyz0123"
    )
    out = _mask([{"type": "API_KEY"}], text)
    assert out.count("[MASKED:API_KEY]") == 4
    assert "sk-" not in out
    assert "AKIA" not in out


def test_only_card_numbers_that_pass_the_luhn_check_are_masked() -> None:
    text = "card 4111 1111 1111 1111, order 1234567890123, other 4111-1111-1111-1112"
    assert _mask([{"type": "CARD_NUMBER"}], text) == (
        "card [MASKED:CARD_NUMBER], order 1234567890123, other 4111-1111-1111-1112"
    )


def test_a_key_rule_replaces_the_whole_value_under_a_matching_key() -> None:
    value = {"user.email": "a@b.io", "tool": {"args": {"Password": {"x": 1}, "q": "hi"}}}
    assert _mask(
        [{"type": "KEY", "match": "*password*"}, {"type": "KEY", "match": "user.*"}], value
    ) == {
        "user.email": MASKED_VALUE,
        "tool": {"args": {"Password": MASKED_VALUE, "q": "hi"}},
    }


def test_a_custom_regex_and_untouched_values_are_not_copied() -> None:
    rules = compile_rules(parse_rules([{"type": "REGEX", "match": r"ACME-\d{6}"}]))
    untouched = {"a": [1, 2.5, None, True, {"b": "nothing here"}]}
    assert masked(untouched, rules) is untouched
    assert masked(["ref ACME-123456"], rules) == ["ref [MASKED:REGEX]"]


@pytest.mark.parametrize(
    ("rules", "problem"),
    [
        ({"type": "EMAIL"}, "masking rules are a list"),
        ([{"type": "SSN"}], "rule 1: type must be one of"),
        ([{"type": "EMAIL"}, {"type": "KEY"}], "rule 2: a KEY rule needs `match`"),
        ([{"type": "REGEX", "match": "(unclosed"}], "rule 1: not a regular expression"),
        ([{"type": "REGEX", "match": ".*"}], "matches empty text"),
        ([{"type": "EMAIL", "match": "x"}], "takes no `match`"),
        ([{"type": "EMAIL"}] * 51, "at most 50"),
        (["EMAIL"], "rule 1 must be an object"),
    ],
)
def test_a_bad_rule_is_refused_naming_it(rules: Any, problem: str) -> None:
    with pytest.raises(InvalidRule, match=problem):
        parse_rules(rules)


def test_no_rules_mask_nothing() -> None:
    assert compile_rules(parse_rules(None)).empty
    assert parse_rules([{"type": "email"}])[0].as_json() == {"type": "EMAIL"}
