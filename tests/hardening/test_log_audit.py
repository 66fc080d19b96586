"""The audit that keeps secrets out of every log of the suite (tests/log_audit.py): what
it finds, the one-time displays it lets through (and only on a terminal), and that it
really captures this process's logs. Plus the server's own care: GraphQL client errors
are logged without their variables' values."""

from __future__ import annotations

import logging
import secrets

import pytest
import structlog
from structlog.testing import capture_logs

from storage.projects import new_api_key
from tests.graph.conftest import GraphApi
from tests.log_audit import AUDIT, Kind, SecretScanner
from tests.secrets_registry import SecretsRegistry, remember_secret

KEY = new_api_key()
REFRESH = "atr_" + secrets.token_urlsafe(32)
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
PASSWORD = 'correct "horse" battery'
SCANNER = SecretScanner([PASSWORD])

# Exactly what a first start of serve prints on stdout (agenttrace/apps.py).
SERVE_BANNER = f"""
Created project 'default'. Its API key (shown once, keep it):

    {KEY}

Send OpenTelemetry traces to it:

    export OTEL_EXPORTER_OTLP_TRACES_ENDPOINT=http://127.0.0.1:8000/v1/traces
    export OTEL_EXPORTER_OTLP_TRACES_HEADERS="Authorization=Bearer {KEY}"
"""


def leaks(text: str, kind: Kind = Kind.LOG) -> list[str]:
    return [leak.what for leak in SCANNER.leaks(text, "test", kind)]


def test_each_kind_of_secret_in_a_log_line_is_a_leak() -> None:
    line = "2026-01-01T00:00:00Z [info] request {}"
    assert leaks(line.format("")) == []
    assert leaks(line.format(f"key={KEY}")) == ["API key"]
    assert leaks(line.format(f"token={REFRESH}")) == ["refresh token"]
    assert leaks(line.format(f"jwt={JWT}")) == ["JWT"]
    assert leaks(line.format(f"authorization='Bearer {secrets.token_hex(16)}'")) == [
        "bearer credential"
    ]
    assert leaks(line.format(f"password={PASSWORD}")) == ["registered secret"]
    # As a JSON log line would carry it.
    assert leaks(line.format('{"password": "correct \\"horse\\" battery"}')) == [
        "registered secret"
    ]


def test_a_key_s_visible_prefix_is_not_a_leak() -> None:
    assert leaks(f"key created prefix={KEY[:9]}") == []


def test_the_one_time_display_passes_on_a_terminal_only() -> None:
    assert leaks(SERVE_BANNER, Kind.TERMINAL) == []
    assert leaks(f"API key (shown once): {KEY}", Kind.TERMINAL) == []
    assert leaks(SERVE_BANNER, Kind.LOG) == ["API key", "API key, bearer credential"]


def test_a_log_line_on_a_terminal_is_still_a_leak() -> None:
    printed = SERVE_BANNER + f"2026-01-01 [info] ingest.accepted api_key={KEY}\n"
    assert leaks(printed, Kind.TERMINAL) == ["API key"]
    assert leaks(f"INFO root: created {KEY}", Kind.TERMINAL) == ["API key"]


def test_a_report_never_shows_the_secret() -> None:
    [leak] = SCANNER.leaks(f"x Authorization: Bearer {KEY} y", "file.log", Kind.LOG)
    assert KEY not in str(leak)
    assert KEY[6:12] not in str(leak)
    assert str(leak).startswith("file.log:1: API key, bearer credential: x Authorization: ")


def test_short_secrets_cannot_be_registered() -> None:
    registry = SecretsRegistry()
    assert registry.remember("long enough") == "long enough"
    with pytest.raises(ValueError, match="at least 8 characters"):
        registry.remember("short")
    assert registry.all() == {"long enough"}


def test_this_process_s_logs_are_captured() -> None:
    marker = f"marker-{secrets.token_hex(8)}"
    structlog.get_logger("audit-test").info("audit.structlog", marker=marker)
    logging.getLogger("audit-test").info("stdlib %s", marker)
    captured = "\n".join(text for _, text, _ in AUDIT.sources())
    assert f"marker={marker}" in captured
    assert f"INFO audit-test: stdlib {marker}" in captured


async def test_graphql_client_errors_are_logged_without_variable_values(
    graph_api: GraphApi,
) -> None:
    token = remember_secret("s3cret-" + secrets.token_hex(8))
    query = "query ($f: TraceFilter) { project { traces(filter: $f) { nodes { traceId } } } }"
    # A field the input type does not have: graphql-core quotes the whole object.
    bad = {"f": {"metadata": [{"key": "token", "value": token, "extra": 1}]}}
    with capture_logs() as logs:
        result = await graph_api.query(query, bad)
    assert token in result["errors"][0]["message"]  # the client sees its own input
    [logged] = [e for e in logs if e["event"] == "graphql.client_error"]
    assert logged["message"] == "Variable '$f' has an invalid value (not logged)"
