"""How one POST's result is read: retry, drop or sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from agenttrace_sdk.transport import RETRY, HttpTransport, _retry_after

from tests.processes import free_port


def test_retry_after_is_read_as_seconds_or_an_http_date() -> None:
    assert _retry_after("7") == 7.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    delay = _retry_after(later)
    assert delay is not None
    assert 20 < delay <= 31
    assert _retry_after("soon") is None
    assert _retry_after(None) is None


def test_an_unreachable_server_means_retry_not_drop() -> None:
    transport = HttpTransport(f"http://127.0.0.1:{free_port()}", "at_x", timeout_s=2)
    outcome = transport.send(b"{}")
    assert outcome.result == RETRY
    assert outcome.status is None
    assert outcome.reason
