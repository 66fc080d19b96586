"""Masking reaches every column a span's text can land in, before anything is stored."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from masking.rules import compile_rules, parse_rules
from pricing.price_table import PriceTable
from workers.project_policies import ProjectPolicy
from workers.span_rows import INDEXED_TEXT_MAX_BYTES, SpanRow, to_row

START_NS = int(datetime(2026, 6, 1, tzinfo=UTC).timestamp()) * 1_000_000_000
EMAIL = "ada@example.com"


def _policy(rules: list[dict[str, str]]) -> ProjectPolicy:
    return ProjectPolicy(PriceTable([]), compile_rules(parse_rules(rules)))


def _row(**fields: object) -> SpanRow:
    record = {
        "trace_id": "0af7651916cd43dd8448eb211c80319c",
        "span_id": "b7ad6b7169203331",
        "name": "call",
        "kind": "LLM",
        "start_time_unix_nano": START_NS,
        "end_time_unix_nano": START_NS + 1_000,
    } | fields
    return to_row(uuid.uuid4(), record)


def test_text_rules_reach_the_user_session_tags_environment_and_resource() -> None:
    row = _policy([{"type": "EMAIL"}]).apply(
        _row(
            user_id=EMAIL,
            session_id=f"s-{EMAIL}",
            tags=[EMAIL, "ok"],
            environment=EMAIL,
            resource={"owner": EMAIL},
        )
    )
    stored = repr(row)
    assert EMAIL not in stored
    assert row.user_id == "[MASKED:EMAIL]"
    assert row.tags == ["[MASKED:EMAIL]", "ok"]


def test_a_key_rule_naming_a_mapped_attribute_masks_its_column() -> None:
    # OTLP ingest moves input.value and user.id into columns and drops the attributes.
    row = _policy(
        [{"type": "KEY", "match": "input.value"}, {"type": "KEY", "match": "user.*"}]
    ).apply(_row(input=[{"role": "user", "content": "secret"}], user_id="u-1", output="kept"))
    assert (row.input, row.user_id, row.output) == ("[MASKED]", "[MASKED]", "kept")


def test_a_mask_that_lengthens_indexed_text_is_cut_to_fit_the_index() -> None:
    row = _policy([{"type": "REGEX", "match": r"\d"}]).apply(_row(name="1" * 500))
    assert len(row.name.encode()) <= INDEXED_TEXT_MAX_BYTES
    assert "11111" not in repr(row)
