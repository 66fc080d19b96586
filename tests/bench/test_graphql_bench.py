"""The query benchmark, in smoke mode, against the real API on a real PostgreSQL: every
figure is measured and well-formed. Timings are never asserted here."""

from __future__ import annotations

import argparse
import dataclasses
import math
from pathlib import Path
from typing import Any

import pytest

from bench.graphql import (
    DETAIL_SPANS,
    SECTION,
    SMOKE,
    Call,
    Options,
    _parser,
    command_line,
    describe_server,
    notes,
    options_of,
    prepare,
    problem_of,
    run,
    server_settings,
    shown_rows,
)
from bench.report import write_section
from devservices import DevServices
from tests.databases import fresh_database

SPANS = SMOKE.spans
OPTIONS = Options(
    spans=SPANS,
    duration_s=0.3,
    warmup_s=0.1,
    concurrency=(1, 2),
    min_requests=2,
    rounds=2,
    cached=True,
)
COLUMNS = [
    "figure",
    "clients",
    "requests",
    "p50 ms",
    "p95 ms",
    "req/s",
    "ceiling req/s",
    "ratio",
    "API CPU ms/req",
    "response bytes",
    "note",
]


@pytest.fixture(scope="module")
async def database_url(services: DevServices) -> str:
    return await fresh_database(services, "bench_graphql")


def _measured(row: dict[str, Any]) -> None:
    assert row["note"] == "", row
    assert row["requests"] >= OPTIONS.min_requests
    assert 0 < row["p50 ms"] <= row["p95 ms"]
    assert all(math.isfinite(row[k]) for k in ("p50 ms", "p95 ms", "req/s"))
    assert row["req/s"] > 0
    assert row["API CPU ms/req"] > 0


async def test_every_figure_is_measured_beside_its_ceiling(
    database_url: str, tmp_path: Path, services: DevServices
) -> None:
    options = dataclasses.replace(OPTIONS, redis_url=services.redis_url)
    result = await run(database_url, options, progress=False)
    assert result.dataset.spans == SPANS + DETAIL_SPANS
    assert result.analytics_available

    rows = result.rows
    for row in rows:
        assert list(row) == COLUMNS
        assert row["response bytes"] > 0
        assert row["clients"] in OPTIONS.concurrency
        _measured(row)
        if row["figure"].startswith("ceiling: "):
            assert (row["ceiling req/s"], row["ratio"]) == (None, None)
        else:
            assert row["ceiling req/s"] > 0
            assert row["ratio"] == pytest.approx(row["req/s"] / row["ceiling req/s"])

    figures = {row["figure"] for row in rows}
    assert len(rows) == len(figures) * len(OPTIONS.concurrency)
    ceilings = [
        "ceiling: GraphQL { __typename }",
        "ceiling: REST GET /healthz",
        "ceiling: GraphQL { __typename }, API with Redis",
        "ceiling: REST GET /healthz, API with Redis",
    ]
    expected = [
        *ceilings,
        "GraphQL trace detail (100 spans), uncached",
        "GraphQL trace detail (1,000 spans), uncached",
        "GraphQL trace list: status ERROR",
        "GraphQL trace list: model",
        "GraphQL analytics",
        "REST GET /api/v1/traces/{id} (1,000 spans), uncached",
        "GraphQL trace detail (10 spans), cached",
        "GraphQL trace detail (100 spans), cached",
        "GraphQL trace detail (1,000 spans), cached",
        "REST GET /api/v1/traces/{id} (10 spans), cached",
        "REST GET /api/v1/traces/{id} (1,000 spans), cached",
    ]
    for prefix in expected:
        assert any(f.startswith(prefix) for f in figures), (prefix, figures)
    assert len(figures) == len(expected)
    assert set(result.ceiling_range) == {
        f"{label.removeprefix('ceiling: ')} at {clients} client{'s' if clients > 1 else ''}"
        for label in ceilings
        for clients in OPTIONS.concurrency
    }
    # A cached answer is the uncached one: same bytes' worth, from either API.
    sizes = {row["figure"]: row["response bytes"] for row in rows}
    for detail in (
        "GraphQL trace detail (1,000 spans)",
        "REST GET /api/v1/traces/{id} (1,000 spans)",
    ):
        assert sizes[f"{detail}, cached"] == sizes[f"{detail}, uncached"]
    for low, high in result.ceiling_range.values():
        assert 0 < low <= high

    # The section: the table, the dataset, the ratios' meaning and the command.
    args = _parser().parse_args(["--spans", str(SPANS), "--duration", "0.3"])
    doc = tmp_path / "benchmarks.md"
    settings = await server_settings(database_url)
    server = describe_server(settings, started_here=False)
    assert server.startswith(f"PostgreSQL {settings['server_version']} (fsync ")
    text = notes(result, OPTIONS, command_line(args), server)
    write_section(SECTION, shown_rows(rows), text, path=doc)
    written = doc.read_text()
    assert f"## {SECTION}\n" in written
    assert (
        "| figure | clients | requests | p50 ms | p95 ms | req/s | ceiling req/s | ratio"
        " | API CPU ms/req |"
    ) in written
    assert "response bytes |\n" in written
    assert "| note |" not in written
    assert f"{SPANS + DETAIL_SPANS:,} spans" in written
    assert "python -m bench.graphql --spans 20000 --duration 0.3\n" in written
    assert "Before and after" in written
    assert "**The seed's figure**, cached reads of a default 10-span trace" in written
    assert "GraphQL " in written.split("**The seed's figure**")[1].split("\n")[0]


async def test_a_seeded_database_is_reused(database_url: str) -> None:
    # The first test seeded this module's database already (or this seeds it now).
    await prepare(database_url, SPANS, progress=False)
    again = await prepare(database_url, SPANS, progress=False)
    assert again.seeded_s is None
    assert again.spans == SPANS + DETAIL_SPANS
    assert set(again.detail_trace_ids) == {10, 100, 1_000}


def test_the_command_line_reproduces_the_options() -> None:
    args = _parser().parse_args(
        ["--database-url", "postgresql://x/y", "--spans", "20000", "--concurrency", "1,4"]
    )
    assert options_of(args).concurrency == (1, 4)
    assert command_line(args) == (
        'python -m bench.graphql --database-url "$AGENTTRACE_DATABASE_URL"'
        " --spans 20000 --concurrency 1,4"
    )
    uncached = _parser().parse_args(["--no-cached"])
    assert not options_of(uncached).cached
    assert command_line(uncached) == "python -m bench.graphql --no-cached"
    with pytest.raises(SystemExit):
        options_of(argparse.Namespace(**(vars(args) | {"concurrency": "0"})))


def test_a_wrong_answer_is_a_problem_not_a_crash() -> None:
    def check(payload: Any) -> str | None:
        return None if payload["data"]["project"]["trace"] else "trace not found"

    call = Call.graphql("detail", "{ __typename }", check=check)
    assert problem_of(call, 503, b"busy") == "HTTP 503: busy"
    errors = b'{"data":null,"errors":[{"message":"no"}]}'
    assert (problem_of(call, 200, errors) or "").startswith("GraphQL errors: ")
    assert (problem_of(call, 200, b'{"data":{"project":null}}') or "").startswith("unexpected")
    assert (problem_of(call, 200, b"<html>") or "").startswith("unexpected")
    assert problem_of(call, 200, b'{"data":{"project":{"trace":{}}}}') == "trace not found"
    assert problem_of(call, 200, b'{"data":{"project":{"trace":{"a":1}}}}') is None
