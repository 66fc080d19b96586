"""Shared fixtures: real Kafka, Redis and PostgreSQL on loopback (devservices)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devservices import DevServices


@pytest.fixture(scope="session")
def services() -> Iterator[DevServices]:
    """Kafka (KRaft), Redis and PostgreSQL for the whole session, on free loopback ports."""
    with DevServices() as started:
        yield started
