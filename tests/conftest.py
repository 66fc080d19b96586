"""Shared fixtures: real Kafka, Redis and PostgreSQL on loopback (devservices)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devservices import DevServices
from tests.log_audit import AUDIT


@pytest.fixture(scope="session", autouse=True)
def no_secrets_in_logs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Collects every log of the session (tests/log_audit.py); after the last test, fails
    (as an error in that test's teardown) if any holds an API key, token or password."""
    AUDIT.start(tmp_path_factory.getbasetemp())
    yield
    problems = AUDIT.stop()
    leaks = AUDIT.leaks()
    if leaks or problems:
        lines = [f"{len(leaks)} secret(s) in the logs of this session:", *map(str, leaks[:50])]
        pytest.fail("\n".join([*lines, *problems]), pytrace=False)


@pytest.fixture(scope="session")
def services() -> Iterator[DevServices]:
    """Kafka (KRaft), Redis and PostgreSQL for the whole session, on free loopback ports."""
    with DevServices() as started:
        yield started
