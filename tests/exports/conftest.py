"""A seeded source database shared by the module's tests, and fresh empty targets."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from devservices import DevServices
from storage.database import create_engine
from tests.databases import fresh_database
from tests.exports.seeding import project_id, seed_project

SOURCE_PROJECT = "export-source"


@pytest.fixture(scope="module")
async def source(services: DevServices) -> AsyncIterator[AsyncEngine]:
    """A database holding SOURCE_PROJECT (tests/exports/seeding.py)."""
    engine = create_engine(await fresh_database(services, "test_export_src"), pool_size=4)
    await seed_project(engine, SOURCE_PROJECT)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
async def source_project(source: AsyncEngine) -> uuid.UUID:
    found = await project_id(source, SOURCE_PROJECT)
    assert found is not None
    return found


@pytest.fixture
async def empty(services: DevServices) -> AsyncIterator[AsyncEngine]:
    """A new, migrated database with no project but the bootstrap ones."""
    engine = create_engine(await fresh_database(services, "test_import"), pool_size=4)
    try:
        yield engine
    finally:
        await engine.dispose()
