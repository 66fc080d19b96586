"""The report writer replaces its own section of docs/benchmarks.md and leaves the rest."""

from __future__ import annotations

from pathlib import Path

from bench.report import machine, markdown_table, write_section


def test_a_section_is_appended_then_replaced_in_place(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nIntro.\n\n## Other\n\nkept\n")
    write_section("Seed", [{"spans": 1_000_000, "seconds": 103.6}], "first", path=doc)
    write_section("Last", [], "```\n## not a heading\n```", path=doc)
    write_section("Seed", [{"spans": 2_000, "ratio": 0.8312}], "second", path=doc)
    text = doc.read_text()
    assert text.startswith("# Benchmarks\n\nIntro.\n\n## Other\n\nkept\n\n## Seed\n")
    assert text.count("## Seed") == 1
    assert "first" not in text
    assert "second" in text
    assert "| 2,000 | 0.831 |" in text
    assert text.index("## Seed") < text.index("## Last") < text.index("## not a heading")
    assert text.count("_Measured ") == 2
    assert "commit " in text
    assert "Python 3." in text


def test_a_missing_document_is_created(tmp_path: Path) -> None:
    doc = tmp_path / "docs" / "benchmarks.md"
    write_section("Seed", [{"a": 1}], "", versions={"PostgreSQL": "17.4", "Kafka": None}, path=doc)
    text = doc.read_text()
    assert text.startswith("# Benchmarks\n")
    assert "PostgreSQL 17.4" in text
    assert "Kafka" not in text


def test_tables_and_machine() -> None:
    assert markdown_table([{"a": 1, "b": "x|y"}, {"c": None}]) == (
        "| a | b | c |\n| --- | --- | --- |\n| 1 | x\\|y | - |\n| - | - | - |"
    )
    assert markdown_table([]) == ""
    found = machine()
    assert found["cpus"]
    assert found["cpu"]
    assert found["ram"]
