"""The processes a benchmark starts: free ports, a clean environment, and a process that
can be waited on until healthy and stopped by its pid."""

from __future__ import annotations

import asyncio
import math
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import aiohttp

from devservices._base import _die_with_parent

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def log_directory(given: str | None, bench: str) -> Iterator[Path]:
    """Where a bench's processes write their logs: ``given`` (``--log-dir``, created if
    missing, kept), or a temporary directory deleted at the end."""
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix=f"bench-{bench}-logs-") as temporary:
        yield Path(temporary)


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTTRACE_")}
    env |= {"PYTHONUNBUFFERED": "1", "XDG_RUNTIME_DIR": os.environ.get("XDG_RUNTIME_DIR", "/tmp")}
    return env | (extra or {})


class BenchProcess:
    """A process the bench starts, its output in ``<log_dir>/<name>.log``. In its own
    process group (a terminal's Ctrl-C reaches only the bench, which stops it), and sent
    SIGTERM by Linux if the bench dies; stopped by its pid."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log: IO[bytes] = self.log_path.open("ab")
        self.popen = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            process_group=0,
            preexec_fn=_die_with_parent(signal.SIGTERM),
        )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _failed(self, what: str) -> RuntimeError:
        return RuntimeError(f"{self.name} {what}:\n{self.output()[-4000:]}")

    async def wait_healthy(self, base_url: str, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        async with aiohttp.ClientSession() as session:
            while True:
                if self.popen.poll() is not None:
                    raise self._failed(f"exited ({self.popen.returncode})")
                try:
                    async with session.get(f"{base_url}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                if time.monotonic() > deadline:
                    raise self._failed("did not become healthy")
                await asyncio.sleep(0.1)

    async def wait_output(self, pattern: re.Pattern[str], timeout_s: float = 10) -> str:
        deadline = time.monotonic() + timeout_s
        while (match := pattern.search(self.output())) is None:
            if time.monotonic() > deadline:
                raise self._failed(f"printed nothing matching {pattern.pattern!r}")
            await asyncio.sleep(0.1)
        return match.group(0)

    def cpu_seconds(self) -> float:
        """User and system CPU time of the process so far, from /proc; NaN elsewhere."""
        try:
            with open(f"/proc/{self.popen.pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return math.nan
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    async def stop(self, timeout_s: float = 30) -> int | None:
        """SIGTERM, then SIGKILL to its process group after ``timeout_s``."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            for _ in range(math.ceil(timeout_s / 0.05)):
                if self.popen.poll() is not None:
                    break
                await asyncio.sleep(0.05)
            else:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(10)
        self._log.close()
        return self.popen.returncode
