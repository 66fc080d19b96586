"""Runs ``agenttrace`` commands as real subprocesses for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.log_audit import Kind, register_log_file

AGENTTRACE = [sys.executable, "-m", "agenttrace.cli"]
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Process:
    """One agenttrace process. Its stderr (its logs) goes to ``log_path``, its stdout (what
    it prints for the operator, such as a new key shown once) to ``<log_path>.stdout``;
    both are shown when a wait fails and audited for secrets (tests/log_audit.py)."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        self.args = args
        self.log_path = log_path
        self.stdout_path = log_path.with_name(log_path.name + ".stdout")
        register_log_file(self.log_path, Kind.LOG)
        register_log_file(self.stdout_path, Kind.TERMINAL)
        self._log = log_path.open("ab")
        self._stdout = self.stdout_path.open("ab")
        full_env = os.environ | {"PYTHONUNBUFFERED": "1", "XDG_RUNTIME_DIR": "/tmp"} | env
        self.popen = subprocess.Popen(
            [*AGENTTRACE, *args],
            env=full_env,
            cwd=ROOT,
            stdout=self._stdout,
            stderr=self._log,
            start_new_session=True,
        )

    def output(self) -> str:
        """What it printed (stdout), then what it logged (stderr)."""
        printed = self.stdout_path.read_text(errors="replace")
        return printed + self.log_path.read_text(errors="replace")

    def wait_healthy(self, base_url: str, timeout_s: float = 60) -> None:
        wait_until(
            lambda: _healthy(base_url),
            timeout_s,
            lambda: f"{self.args} did not become healthy:\n{self.output()[-4000:]}",
            alive=self,
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)

    def stop(self, timeout_s: float = 30) -> int:
        """SIGTERM, as a process manager would, then SIGKILL after ``timeout_s``.
        Returns the exit code (uvicorn ends a SIGTERM-ed server by re-raising it: -15)."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()
        self._stdout.close()
        return self.popen.returncode


def _healthy(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def wait_until(
    condition: Callable[[], bool],
    timeout_s: float,
    message: Callable[[], str],
    *,
    alive: Process | None = None,
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        if alive is not None and alive.popen.poll() is not None:
            raise AssertionError(f"process exited ({alive.popen.returncode}): {message()}")
        time.sleep(0.2)
    raise AssertionError(message())
