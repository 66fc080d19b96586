"""Redis from Debian's redis-server, memory only."""

from __future__ import annotations

import shutil
from pathlib import Path

import redis

from ._base import HOST, Service, apt_install


def redis_server_path() -> str:
    path = shutil.which("redis-server")
    if path is None:
        apt_install("redis-server")
        path = shutil.which("redis-server")
    if path is None:
        raise RuntimeError("redis-server still not on PATH after installing it")
    return path


class Redis(Service):
    name = "redis"

    def __init__(self, workdir: Path, port: int) -> None:
        super().__init__(workdir, port)
        self.url = f"redis://{HOST}:{port}/0"

    def start(self) -> None:
        # No snapshots, no AOF: nothing of a throwaway instance is worth writing to disk.
        args = ["--port", str(self.port), "--bind", HOST, "--save", "", "--appendonly", "no"]
        self._spawn([redis_server_path(), *args, "--dir", str(self.workdir)])

    def probe(self) -> bool:
        with redis.Redis(host=HOST, port=self.port, socket_timeout=2) as client:
            return bool(client.ping())
