"""The ``agenttrace`` command. It only wires settings to the parts; the work is elsewhere."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from types import FrameType
from typing import Any

import orjson
import uvicorn
from fastapi import FastAPI

from access.accounts import create_person
from access.permissions import Role
from agenttrace.analytics_process import run_analytics_worker
from agenttrace.apps import Roles, build_app, run_worker
from agenttrace.errors import UserError
from agenttrace.logs import configure_logging
from agenttrace.settings import Settings
from exports import commands as export_commands
from storage.database import create_engine, database_url, to_async_url
from storage.migrate import upgrade
from storage.projects import ProjectExists, create_project
from storage.users import UserExists


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="agenttrace", description="Tracing and analytics for LLM agents."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def with_server_flags(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", help="address to listen on (default 127.0.0.1)")
        p.add_argument("--port", type=int, help="port to listen on (default 8000)")
        p.add_argument("--data-dir", help="where embedded data lives (default ~/.agenttrace)")

    with_server_flags(
        commands.add_parser("serve", help="everything in one process, embedded defaults")
    )
    with_server_flags(
        commands.add_parser("ingest", help="the stateless ingest service (needs Kafka)")
    )
    with_server_flags(commands.add_parser("api", help="the query API and dashboard"))
    commands.add_parser(
        "worker", help="the storage worker (a Kafka consumer group member)"
    ).add_argument("--data-dir")
    commands.add_parser(
        "analytics-worker", help="the analytics rollup worker (a consumer of trace-events)"
    ).add_argument("--data-dir")
    commands.add_parser("migrate", help="bring the database schema up to date").add_argument(
        "--data-dir"
    )
    project = commands.add_parser("project", help="manage projects").add_subparsers(
        dest="project_command", required=True
    )
    create = project.add_parser("create", help="create a project and print its API key once")
    create.add_argument("name")
    create.add_argument("--json", action="store_true", help='print {"id", "name", "api_key"}')
    create.add_argument("--data-dir")
    user = commands.add_parser("user", help="manage people").add_subparsers(
        dest="user_command", required=True
    )
    add = user.add_parser(
        "create",
        help="create a user; without --password-stdin a one-time password is printed once",
    )
    add.add_argument("email")
    add.add_argument("--admin", action="store_true", help="a server administrator")
    add.add_argument("--organization", help="give a role in this organization (by name)")
    add.add_argument("--role", choices=[r.value for r in Role], help="the role there")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add.add_argument("--data-dir")
    export_commands.add_commands(commands)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {
        key: value
        for key in ("host", "port", "data_dir")
        if (value := getattr(args, key, None)) is not None
    }
    return Settings(**overrides)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def _serve(settings: Settings, roles: Roles, name: str) -> None:
    # uvicorn drains and shuts the app down on SIGTERM, then re-raises the signal. Turning
    # that into SystemExit lets the embedded PostgreSQL below stop too, instead of
    # outliving a process that was killed by the default handler.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    with database_url(settings) as url:
        where = (
            f"data in {settings.resolved_data_dir}"
            if settings.database_url is None
            else "database from AGENTTRACE_DATABASE_URL"
        )
        queue = (
            "embedded queue"
            if settings.embedded_mode
            else f"Kafka at {settings.kafka_bootstrap_servers}"
        )
        print(
            f"agenttrace {name} listening on http://{settings.host}:{settings.port} ({where}; {queue})",
            file=sys.stderr,
            flush=True,
        )
        uvicorn.run(
            build_app(settings, url, roles),
            host=settings.host,
            port=settings.port,
            **http_stack(settings),
        )


def http_stack(settings: Settings) -> dict[str, Any]:
    """The ``uvicorn.run`` settings of every HTTP process (serve, ingest, api, and the
    no-op ceiling of bench/ingest.py). uvloop and httptools, not asyncio and h11: the
    event loop and the HTTP parser are a large share of a request's CPU (see
    docs/benchmarks.md, "Ingest: spans/s into Kafka")."""
    return {
        "loop": "uvloop",
        "http": "httptools",
        "log_level": settings.log_level.lower(),
        "access_log": False,
        "timeout_graceful_shutdown": 10,
    }


def ingest_app() -> FastAPI:
    """The app of one of ``ingest_workers`` processes: uvicorn imports and calls this in
    each worker it starts (their settings come from the same environment)."""
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    if settings.database_url is None:
        raise SystemExit("agenttrace ingest needs AGENTTRACE_DATABASE_URL")
    return build_app(settings, to_async_url(settings.database_url), Roles(ingest=True))


def _serve_ingest_workers(settings: Settings) -> None:
    """``agenttrace ingest`` as ``ingest_workers`` processes on one port: uvicorn's
    supervisor binds the socket, starts the workers (each its own app, Kafka producer and
    caches) and restarts one that dies. Ingest keeps no state between requests, so any
    worker may take any request."""
    print(
        f"agenttrace ingest listening on http://{settings.host}:{settings.port}"
        f" ({settings.ingest_workers} worker processes; Kafka at"
        f" {settings.kafka_bootstrap_servers})",
        file=sys.stderr,
        flush=True,
    )
    # The workers read their settings from the environment: pass on the CLI's overrides.
    os.environ["AGENTTRACE_HOST"] = settings.host
    os.environ["AGENTTRACE_PORT"] = str(settings.port)
    uvicorn.run(
        "agenttrace.cli:ingest_app",
        factory=True,
        workers=settings.ingest_workers,
        host=settings.host,
        port=settings.port,
        **http_stack(settings),
    )


def _require_kafka(settings: Settings, name: str) -> None:
    if settings.kafka_bootstrap_servers is None or settings.database_url is None:
        sys.exit(
            f"agenttrace {name} runs against real services: set AGENTTRACE_KAFKA_BOOTSTRAP_SERVERS"
            " and AGENTTRACE_DATABASE_URL (or use 'agenttrace serve' on one machine)"
        )


async def _create_project(settings: Settings, url: str, name: str) -> Any:
    engine = create_engine(url, pool_size=1)
    try:
        return await create_project(engine, name)
    finally:
        await engine.dispose()


async def _create_user(url: str, args: argparse.Namespace, password: str | None) -> Any:
    engine = create_engine(url, pool_size=1)
    try:
        return await create_person(
            engine,
            args.email,
            password,
            is_admin=args.admin,
            organization=args.organization,
            role=args.role,
        )
    finally:
        await engine.dispose()


def _user_command(settings: Settings, args: argparse.Namespace) -> None:
    if (args.organization is None) != (args.role is None):
        sys.exit("error: give both --organization and --role, or neither")
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    with database_url(settings) as url:
        upgrade(url)
        try:
            user_id, one_time = asyncio.run(_create_user(url, args, password))
        except (UserExists, LookupError, UserError) as exc:
            sys.exit(f"error: {getattr(exc, 'detail', exc)}")
    print(f"Created user {args.email.strip()} ({user_id}).")
    if one_time is not None:
        print(f"One-time password (shown once; it must be changed at first login): {one_time}")


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    settings = _settings(args)
    configure_logging(settings.log_level, settings.log_format)
    if args.command == "serve":
        roles = Roles(ingest=True, query=True, worker=True, migrate=True, bootstrap_project=True)
        _serve(settings, roles, "serve")
    elif args.command == "ingest":
        _require_kafka(settings, "ingest")
        if settings.ingest_workers > 1:
            _serve_ingest_workers(settings)
        else:
            _serve(settings, Roles(ingest=True), "ingest")
    elif args.command == "api":
        _serve(settings, Roles(query=True), "api")
    elif args.command == "worker":
        _require_kafka(settings, "worker")
        with database_url(settings) as url:
            asyncio.run(run_worker(settings, url))
    elif args.command == "analytics-worker":
        _require_kafka(settings, "analytics-worker")
        with database_url(settings) as url:
            asyncio.run(run_analytics_worker(settings, url))
    elif args.command == "migrate":
        with database_url(settings) as url:
            upgrade(url)
        print("database schema is up to date", file=sys.stderr)
    elif args.command == "user":
        _user_command(settings, args)
    elif args.command in export_commands.COMMANDS:
        export_commands.run_command(settings, args)
    elif args.command == "project":
        with database_url(settings) as url:
            upgrade(url)
            try:
                project = asyncio.run(_create_project(settings, url, args.name))
            except ProjectExists as exc:
                sys.exit(f"error: {exc}")
        if args.json:
            print(
                orjson.dumps(
                    {"id": str(project.id), "name": project.name, "api_key": project.api_key}
                ).decode()
            )
        else:
            print(
                f"Created project '{project.name}' ({project.id}).\nAPI key (shown once): {project.api_key}"
            )


if __name__ == "__main__":
    main()
