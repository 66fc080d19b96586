"""One POST of a gzipped batch, and what it means for the batch: sent, retry, or drop.

Retry on connection errors, timeouts, 408, 429 and 5xx (honouring Retry-After); drop on
any other 4xx, since sending the same bad batch again cannot succeed.
"""

from __future__ import annotations

import email.utils
import json
import socket
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from agenttrace_sdk.version import __version__

SENT = "sent"
RETRY = "retry"
DROP = "drop"
PATH = "/api/v1/traces"


@dataclass(frozen=True)
class Outcome:
    result: str  # SENT, RETRY or DROP
    reason: str | None = None
    rejected: int = 0
    retry_after_s: float | None = None
    status: int | None = None  # the HTTP status, when the server answered


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _error_text(body: bytes) -> str:
    try:
        return str(json.loads(body.decode("utf-8", errors="replace")).get("error", ""))[:200]
    except (ValueError, AttributeError):
        return body[:200].decode("utf-8", errors="replace")


class HttpTransport:
    """POSTs to ``{endpoint}/api/v1/traces`` with the API key, over the stdlib's urllib."""

    def __init__(
        self,
        endpoint: str,
        api_key: str | None,
        timeout_s: float,
        project: str | None = None,
    ) -> None:
        self.url = endpoint.rstrip("/") + PATH
        self.timeout_s = timeout_s
        self.headers: dict[str, str] = {
            "content-type": "application/json",
            "content-encoding": "gzip",
            "user-agent": f"agenttrace-stack-sdk/{__version__}",
        }
        if api_key:
            self.headers["authorization"] = f"Bearer {api_key}"
        if project:
            self.headers["x-agenttrace-project"] = project

    def send(self, body: bytes, timeout_s: float | None = None) -> Outcome:
        request = urllib.request.Request(self.url, data=body, headers=self.headers, method="POST")
        timeout = self.timeout_s if timeout_s is None else max(0.1, timeout_s)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                answer = response.read()
        except urllib.error.HTTPError as exc:
            status = exc.code
            text = _error_text(exc.read())
            reason = f"HTTP {status}: {text}" if text else f"HTTP {status}"
            if status in (408, 429) or status >= 500:
                after = _retry_after(exc.headers.get("retry-after"))
                return Outcome(RETRY, reason, retry_after_s=after, status=status)
            return Outcome(DROP, reason, status=status)
        except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as exc:
            return Outcome(RETRY, f"{type(exc).__name__}: {exc}")
        try:
            rejected = json.loads(answer).get("rejected", [])
        except (ValueError, AttributeError):
            rejected = []
        if rejected:
            first = rejected[0].get("error") if isinstance(rejected[0], dict) else rejected[0]
            return Outcome(SENT, f"rejected by the server: {first}", rejected=len(rejected))
        return Outcome(SENT)
