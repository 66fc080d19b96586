#!/usr/bin/env python3
"""The image's HEALTHCHECK (installed as ``agenttrace-healthcheck``).

One image runs every process, so the check asks the one in this container (PID 1, the
``agenttrace`` ENTRYPOINT) the question that fits it:

- ``serve``, ``ingest``, ``api``: ``GET /healthz`` on the port it listens on (``--port``,
  else ``AGENTTRACE_PORT``, else 8000);
- ``worker``: ``GET /metrics`` on ``AGENTTRACE_WORKER_METRICS_PORT`` (it has no HTTP app);
  with no metrics port there is nothing to ask, and it counts as healthy while it runs;
- ``migrate``, ``project``, ``user``: one-shot commands, healthy while they run.

Settings are read with the server's own ``Settings``, so they parse exactly as the process
parsed them. Exit status 0 is healthy, 1 is not (Docker's HEALTHCHECK contract).
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections.abc import Sequence

SERVERS = frozenset({"serve", "ingest", "api"})
COMMANDS = frozenset({*SERVERS, "worker", "migrate", "project", "user"})


def command_line(argv: Sequence[str]) -> list[str]:
    """The ``agenttrace`` arguments in a process's argv (``python .../agenttrace ingest
    --port 4318`` or ``agenttrace ingest ...``): everything from the subcommand on."""
    for index, arg in enumerate(argv):
        if arg in COMMANDS:
            return list(argv[index:])
    return []


def flag(args: Sequence[str], name: str) -> str | None:
    for index, arg in enumerate(args):
        if arg == name and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def probe_url(argv: Sequence[str]) -> str | None:
    """What to ask the process with this argv whether it is alive; None: nothing to ask."""
    from agenttrace.settings import Settings

    args = command_line(argv)
    if not args:
        return None
    settings = Settings()
    host = flag(args, "--host") or settings.host
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    if args[0] in SERVERS:
        port = int(flag(args, "--port") or settings.port)
        return f"http://{host}:{port}/healthz"
    if args[0] == "worker" and settings.worker_metrics_port:
        return f"http://{host}:{settings.worker_metrics_port}/metrics"
    return None


def main() -> int:
    try:
        with open("/proc/1/cmdline", "rb") as f:
            argv = [a.decode() for a in f.read().split(b"\0") if a]
    except OSError as exc:
        print(f"unhealthy: cannot read PID 1's command line: {exc}", file=sys.stderr)
        return 1
    url = probe_url(argv)
    if url is None:
        return 0
    try:
        with urllib.request.urlopen(url, timeout=4) as answer:
            if answer.status == 200:
                return 0
            print(f"unhealthy: {url} answered {answer.status}", file=sys.stderr)
    except (urllib.error.URLError, OSError) as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
