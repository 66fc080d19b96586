"""A fresh, migrated PostgreSQL database per test module, on the session's server."""

from __future__ import annotations

import uuid

import asyncpg

from devservices import DevServices
from storage.database import to_async_url
from storage.migrate import upgrade_async


async def fresh_database(services: DevServices, prefix: str = "test") -> str:
    """Creates an empty database, migrates it, and returns its asyncpg URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(services.database_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base, _, _ = services.database_url.rpartition("/")
    url = to_async_url(f"{base}/{name}")
    await upgrade_async(url)
    return url
