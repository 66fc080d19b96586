"""The secrets the tests use, so the log audit (tests/log_audit.py) can look for them.

API keys, JWTs and refresh tokens have shapes the audit recognises on its own; a
password has none. Every test that sets or learns a password (or any other secret
without a recognisable shape) passes it through ``remember_secret``:

    password = remember_secret("correct horse battery staple")

Fixtures that create keys remember them too, so the audit also finds a key logged in a
form its pattern would miss (cut short, say).
"""

from __future__ import annotations

import threading

MIN_LENGTH = 8
"""Shorter values would match ordinary words in the logs; test secrets must be longer."""


class SecretsRegistry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()

    def remember(self, value: str) -> str:
        if len(value) < MIN_LENGTH:
            raise ValueError(
                f"a test secret needs at least {MIN_LENGTH} characters to be found in logs"
            )
        with self._lock:
            self._secrets.add(value)
        return value

    def all(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._secrets)


REGISTRY = SecretsRegistry()


def remember_secret(value: str) -> str:
    """Registers ``value`` for the end-of-session log audit; returns it unchanged."""
    return REGISTRY.remember(value)
