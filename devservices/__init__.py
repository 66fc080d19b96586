"""Throwaway Kafka, Redis and PostgreSQL on loopback for development and tests.

with DevServices() as services:
    os.environ.update(services.env)
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import TypeVar

from ._base import Service, ServiceError, free_ports, log
from .kafka import Kafka
from .postgres import Postgres
from .redis import Redis

__all__ = ["DevServices", "ServiceError"]

S = TypeVar("S", bound=Service)
WORKDIR_PREFIX = "agenttrace-devservices-"


def _remove_orphaned_workdirs() -> None:
    """Delete temp dirs left by killed runs (the children died with them, see _die_with_parent,
    but nothing deleted their ~50 MB of data)."""
    for workdir in Path(tempfile.gettempdir()).glob(f"{WORKDIR_PREFIX}*"):
        try:
            owner = int((workdir / "owner.pid").read_text())
            os.kill(owner, 0)
        except ProcessLookupError:
            shutil.rmtree(workdir, ignore_errors=True)
        except (OSError, ValueError):
            pass  # still being set up, or not ours to judge


class DevServices:
    """Starts the chosen services on free ports with data in one temp dir; stop() (or leaving the
    `with` block, or interpreter exit) stops them all and deletes the temp dir."""

    def __init__(
        self,
        *,
        kafka: bool = True,
        redis: bool = True,
        postgres: bool = True,
        ready_timeout: float = 60.0,
    ) -> None:
        self._wanted = {"kafka": kafka, "redis": redis, "postgres": postgres}
        self.ready_timeout = ready_timeout
        self.workdir: Path | None = None
        self._kafka: Kafka | None = None
        self._redis: Redis | None = None
        self._postgres: Postgres | None = None

    @property
    def _services(self) -> list[Service]:
        # Kafka first: it is the slowest to boot, and initdb can run while it does.
        return [s for s in (self._kafka, self._redis, self._postgres) if s is not None]

    def start(self) -> DevServices:
        if self.workdir is not None:
            raise RuntimeError("DevServices already started")
        _remove_orphaned_workdirs()
        self.workdir = Path(tempfile.mkdtemp(prefix=WORKDIR_PREFIX))
        (self.workdir / "owner.pid").write_text(str(os.getpid()))
        atexit.register(self.stop)
        try:
            ports = iter(free_ports(4))
            if self._wanted["kafka"]:
                self._kafka = Kafka(self.workdir, next(ports), controller_port=next(ports))
            if self._wanted["redis"]:
                self._redis = Redis(self.workdir, next(ports))
            if self._wanted["postgres"]:
                self._postgres = Postgres(self.workdir, next(ports))
            # Spawn all, then wait for each: they boot in parallel.
            for service in self._services:
                log.info("starting %s...", service.name)
                service.start()
            for service in self._services:
                self._wait_ready(service)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, service: Service) -> None:
        seconds = service.wait_ready(self.ready_timeout)
        log.info("%s ready on %s (%.1f s)", service.name, service.address, seconds)

    def stop(self) -> None:
        """Stop everything and delete the temp dir; safe to call twice."""
        services = self._services
        for service in services:  # signal all first so they shut down in parallel
            service.send_stop()
        for service in services:
            service.wait_stopped()
        self._kafka = self._redis = self._postgres = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
        atexit.unregister(self.stop)

    def __enter__(self) -> DevServices:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _named(self, name: str) -> Service:
        found = {"kafka": self._kafka, "redis": self._redis, "postgres": self._postgres}
        if name not in found:
            raise ValueError(f"no service named {name!r}")
        return self._require(found[name], name)

    def stop_service(self, name: str) -> None:
        """Stop one service but keep its data and port, for "it goes away, then returns"
        tests (kafka, postgres or redis)."""
        self._named(name).stop()
        log.info("%s stopped", name)

    def start_service(self, name: str) -> None:
        """Start it again on the same port and data; returns once it answers."""
        service = self._named(name)
        if service.running:
            raise RuntimeError(f"{name} is already running")
        service.start()
        self._wait_ready(service)

    def stop_kafka(self) -> None:
        self.stop_service("kafka")

    def start_kafka(self) -> None:
        self.start_service("kafka")

    @staticmethod
    def _require(service: S | None, name: str) -> S:
        if service is None:
            raise RuntimeError(f"{name} is not running (not requested, or DevServices not started)")
        return service

    @property
    def kafka_bootstrap_servers(self) -> str:
        return self._require(self._kafka, "kafka").address

    @property
    def redis_url(self) -> str:
        return self._require(self._redis, "redis").url

    @property
    def database_url(self) -> str:
        return self._require(self._postgres, "postgres").url

    @property
    def env(self) -> dict[str, str]:
        """The AGENTTRACE_* settings of the running services."""
        env = {}
        if self._postgres is not None:
            env["AGENTTRACE_DATABASE_URL"] = self._postgres.url
        if self._kafka is not None:
            env["AGENTTRACE_KAFKA_BOOTSTRAP_SERVERS"] = self._kafka.address
        if self._redis is not None:
            env["AGENTTRACE_REDIS_URL"] = self._redis.url
        return env
