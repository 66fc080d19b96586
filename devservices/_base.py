"""What the three services share: a child process with a log file, a readiness loop, helpers."""

from __future__ import annotations

import abc
import asyncio
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

HOST = "127.0.0.1"
log = logging.getLogger("devservices")
T = TypeVar("T")


class ServiceError(RuntimeError):
    """A service could not be installed, started or reached."""


def free_ports(count: int) -> list[int]:
    """Ports nobody listens on right now; all held open together so they differ from each other."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def port_open(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1):
            return True
    except OSError:
        return False


def run_async(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from sync code, even when the caller is inside an event loop
    (e.g. an async pytest fixture), which rules out a plain asyncio.run() in this thread."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


def run_tool(argv: list[str], what: str, **kwargs: Any) -> None:
    """Run a setup command; on failure raise with its output, which is otherwise not shown."""
    result = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()[-4000:]
        raise ServiceError(f"{what} failed (exit {result.returncode}): {' '.join(argv)}\n{output}")


def apt_install(package: str) -> None:
    if os.geteuid() != 0:
        raise ServiceError(f"{package} is missing; install it: sudo apt-get install -y {package}")
    log.info("installing %s with apt-get...", package)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", package]
    try:
        run_tool(install, f"apt-get install {package}", env=env)
    except ServiceError:
        # A fresh machine has no package lists yet; only then is the slow update worth it.
        run_tool(["apt-get", "update"], "apt-get update", env=env)
        run_tool(install, f"apt-get install {package}", env=env)


def _die_with_parent(sig: int) -> Callable[[], None] | None:
    """A preexec_fn asking Linux to send `sig` to the child when we die, even by SIGKILL,
    so no broker outlives a killed test run.

    Linux ties this to the *thread* that forked, so it is only safe from the main thread: a child
    started from a worker thread (e.g. asyncio.to_thread) would die when that thread ends.
    """
    in_main_thread = threading.current_thread() is threading.main_thread()
    if not sys.platform.startswith("linux") or not in_main_thread:
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up before fork, not in the child
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, sig)

    return preexec


class Service(abc.ABC):
    """One server process, in its own process group (so a terminal's Ctrl-C reaches only us and
    we stop it in order), with stdout and stderr in `<workdir>/<name>.log`."""

    name: str
    stop_signal: int = signal.SIGTERM

    def __init__(self, workdir: Path, port: int) -> None:
        self.workdir = workdir
        self.port = port
        self.log_path = workdir / f"{self.name}.log"
        self._proc: subprocess.Popen[bytes] | None = None
        self._spawned_at = 0.0

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    @abc.abstractmethod
    def start(self) -> None:
        """Install/prepare what is missing, then spawn the process; does not wait for readiness."""

    @abc.abstractmethod
    def probe(self) -> bool:
        """One readiness check with a real client; raising counts as not ready yet."""

    def _spawn(self, argv: list[str], user: str | None = None) -> None:
        with self.log_path.open("ab") as out:
            self._proc = subprocess.Popen(
                argv,
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                process_group=0,
                user=user,
                preexec_fn=_die_with_parent(self.stop_signal),
            )
        self._spawned_at = time.monotonic()

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Block until probe() succeeds; returns seconds since the process was spawned."""
        deadline = time.monotonic() + timeout
        last_error = "no answer"
        while True:
            if self._proc is None or self._proc.poll() is not None:
                code = None if self._proc is None else self._proc.returncode
                raise self.error(f"exited with code {code} before it was ready")
            try:
                if port_open(self.port) and self.probe():
                    return time.monotonic() - self._spawned_at
            except Exception as exc:  # noqa: BLE001  any client error just means "not yet"
                last_error = f"{type(exc).__name__}: {exc}"
            if time.monotonic() > deadline:
                raise self.error(f"not ready after {timeout:.0f} s (last probe: {last_error})")
            time.sleep(0.2)

    def send_stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(self.stop_signal)

    def wait_stopped(self, timeout: float = 30.0) -> None:
        if self._proc is None:
            return
        try:
            self._proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop within %.0f s; killing it", self.name, timeout)
            os.killpg(self._proc.pid, signal.SIGKILL)  # the group: postgres has children
            self._proc.wait()
        self._proc = None

    def stop(self, timeout: float = 30.0) -> None:
        self.send_stop()
        self.wait_stopped(timeout)

    def error(self, problem: str) -> ServiceError:
        """An error carrying the log's tail: the log lives in a temp dir deleted on exit."""
        try:
            tail = "\n".join(self.log_path.read_text(errors="replace").splitlines()[-40:])
        except OSError:
            tail = "(no log)"
        return ServiceError(f"{self.name} {problem}\n--- end of {self.log_path} ---\n{tail}")
