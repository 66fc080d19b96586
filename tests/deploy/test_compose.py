"""docker-compose.yml and .env.example: valid Compose, and every service runs a real
``agenttrace`` command with real settings, on the ports its health checks and peers use."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from agenttrace.settings import Settings
from tests.deploy.manifests import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    ROOT,
    Invocation,
    invoke,
    load_healthcheck,
    only_these_settings,
    read_env_file,
    served_get_paths,
    unknown_settings,
)

AGENTTRACE_IMAGE = "agenttrace:local"


def check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", path],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    done = check_jsonschema(COMPOSE_FILE)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_does_reject_a_broken_compose_file(tmp_path: Path) -> None:
    broken = COMPOSE_FILE.read_text().replace(
        "condition: service_completed_successfully", "condition: service_finished", 1
    )
    path = tmp_path / "docker-compose.yml"
    path.write_text(broken)
    done = check_jsonschema(path)
    assert done.returncode != 0, "a wrong depends_on condition passed the schema"


# --- Compose's own reading: .env interpolation, merge keys, env_file then environment -----

_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])((?:[^{}]|\$\{[^}]*\})*))?\}")


def interpolate(text: str, env: Mapping[str, str]) -> str:
    """Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error},
    ${VAR?error} (nested in defaults too), and $$ for a literal $."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, operator, argument = match.group(1), match.group(2), match.group(3) or ""
        value = env.get(name)
        missing = value is None or (operator is not None and operator.startswith(":") and not value)
        if not missing:
            return str(value)
        if operator in (":-", "-"):
            return interpolate(argument, env)
        if operator in (":?", "?"):
            raise AssertionError(f"docker compose would stop: {name}: {argument}")
        return ""

    return _VARIABLE.sub(replace, text)


def compose(env: Mapping[str, str]) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(interpolate(COMPOSE_FILE.read_text(), env))
    return config


@pytest.fixture(scope="module")
def dotenv() -> dict[str, str]:
    """.env as a user makes it: cp .env.example .env, then a password."""
    return read_env_file(ENV_EXAMPLE) | {"POSTGRES_PASSWORD": "0123456789abcdef"}


@pytest.fixture(scope="module")
def config(dotenv: dict[str, str]) -> dict[str, Any]:
    return compose(dotenv)


def container_env(service: Mapping[str, Any], dotenv: Mapping[str, str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for entry in service.get("env_file", []):
        path = entry["path"] if isinstance(entry, dict) else entry
        assert path == ".env", f"env_file {path}: this test only knows .env"
        env |= dotenv
    environment = service.get("environment", {})
    assert isinstance(environment, dict), "use the mapping form of environment"
    env |= {k: "" if v is None else str(v) for k, v in environment.items()}
    return env


def agenttrace_services(config: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {
        name: service
        for name, service in config["services"].items()
        if service.get("image") == AGENTTRACE_IMAGE
    }


@pytest.fixture(scope="module")
def invocations(config: dict[str, Any], dotenv: dict[str, str]) -> dict[str, Invocation]:
    return {
        name: invoke(f"compose service {name}", service["command"], container_env(service, dotenv))
        for name, service in agenttrace_services(config).items()
    }


def test_there_is_no_default_password_compose_stops_and_says_what_to_do() -> None:
    assert read_env_file(ENV_EXAMPLE)["POSTGRES_PASSWORD"] == ""
    for env in ({}, read_env_file(ENV_EXAMPLE)):
        with pytest.raises(AssertionError, match=r"set POSTGRES_PASSWORD in \.env"):
            compose(env)


def test_the_topology_is_migrate_ingest_two_workers_and_api(
    invocations: dict[str, Invocation],
) -> None:
    commands = {name: inv.args.command for name, inv in invocations.items()}
    assert commands == {
        "migrate": "migrate",
        "ingest": "ingest",
        "worker-1": "worker",
        "worker-2": "worker",
        "api": "api",
    }
    # Both workers are members of one consumer group: they share the partitions.
    groups = {invocations[w].settings.kafka_consumer_group for w in ("worker-1", "worker-2")}
    assert len(groups) == 1


def test_every_agenttrace_service_is_built_from_this_repository(config: dict[str, Any]) -> None:
    for name, service in agenttrace_services(config).items():
        assert service["build"] == ".", name
        assert (ROOT / service["build"] / "Dockerfile").is_file()


def test_services_reach_postgres_kafka_and_redis_as_compose_names_them(
    config: dict[str, Any], invocations: dict[str, Invocation]
) -> None:
    services = config["services"]
    postgres = services["postgres"]["environment"]
    kafka = services["kafka"]["environment"]
    advertised = {
        urlsplit(listener).netloc for listener in kafka["KAFKA_ADVERTISED_LISTENERS"].split(",")
    }
    for name, inv in invocations.items():
        s = inv.settings
        assert s.database_url is not None, name
        db = urlsplit(s.database_url)
        assert (db.hostname, db.port) == ("postgres", 5432), name
        assert db.username == postgres["POSTGRES_USER"], name
        assert db.password == postgres["POSTGRES_PASSWORD"], name
        assert db.path == "/" + postgres["POSTGRES_DB"], name
        assert s.kafka_bootstrap_servers is not None, name
        assert set(s.kafka_bootstrap_servers.split(",")) <= advertised, name
        assert s.redis_url is not None, name
        assert urlsplit(s.redis_url).hostname in services, name
        # One broker: topics cannot have more replicas than that.
        assert s.kafka_replication_factor <= 1, name


def test_servers_listen_on_the_published_ports_and_answer_their_health_checks(
    config: dict[str, Any], invocations: dict[str, Invocation]
) -> None:
    healthcheck = load_healthcheck()
    for name in ("ingest", "api"):
        service, inv = config["services"][name], invocations[name]
        published = {int(str(p).rsplit(":", 1)[1]) for p in service["ports"]}
        assert published == {inv.settings.port}, name
        assert inv.settings.host == "0.0.0.0", f"{name} must listen beyond the container"
        assert service["healthcheck"]["test"] == ["CMD", "agenttrace-healthcheck"], name
        with only_these_settings(inv.env):
            url = healthcheck.probe_url(["/opt/venv/bin/agenttrace", *service["command"]])
        assert url == f"http://127.0.0.1:{inv.settings.port}/healthz", name
        assert "/healthz" in served_get_paths(inv.args.command), name


def test_workers_serve_metrics_where_their_health_check_asks(
    config: dict[str, Any], invocations: dict[str, Invocation]
) -> None:
    healthcheck = load_healthcheck()
    for name in ("worker-1", "worker-2"):
        service, inv = config["services"][name], invocations[name]
        port = inv.settings.worker_metrics_port
        assert port > 0, f"{name}: set AGENTTRACE_WORKER_METRICS_PORT"
        assert inv.settings.host == "0.0.0.0", name
        with only_these_settings(inv.env):
            url = healthcheck.probe_url(["agenttrace", *service["command"]])
        assert url == f"http://127.0.0.1:{port}/metrics", name


def test_start_order_waits_for_health_and_for_the_migration(config: dict[str, Any]) -> None:
    services = config["services"]
    for name, service in services.items():
        for dependency, rule in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on a missing {dependency}"
            condition = rule["condition"]
            if condition == "service_healthy":
                check = services[dependency].get("healthcheck", {})
                assert check.get("test"), dependency
                assert not check.get("disable"), dependency
            else:
                assert (dependency, condition) == ("migrate", "service_completed_successfully")
    for name, service in agenttrace_services(config).items():
        needs = set(service["depends_on"])
        assert "postgres" in needs, name
        if name != "migrate":
            assert service["depends_on"]["migrate"]["condition"] == (
                "service_completed_successfully"
            ), name
            assert "redis" in needs, name
    for name in ("ingest", "worker-1", "worker-2"):
        assert "kafka" in services[name]["depends_on"], name
    assert services["migrate"]["restart"] == "no", "a one-shot job must not be restarted"


def test_data_lives_in_named_volumes(config: dict[str, Any]) -> None:
    for name in ("postgres", "kafka"):
        mounts = config["services"][name]["volumes"]
        for mount in mounts:
            volume = mount.split(":", 1)[0]
            assert volume in config["volumes"], f"{name}: {volume} is not a named volume"


def test_postgres_allows_the_connections_the_processes_may_open(
    config: dict[str, Any], invocations: dict[str, Invocation]
) -> None:
    command = config["services"]["postgres"]["command"]
    allowed = int(next(c for c in command if c.startswith("max_connections=")).split("=")[1])
    # Each process: two engines (write, query), each pool_size plus as much overflow.
    needed = sum(4 * inv.settings.db_pool_size for inv in invocations.values())
    assert needed <= allowed


def test_env_example_names_only_real_settings_with_values_they_accept() -> None:
    active = read_env_file(ENV_EXAMPLE)
    documented = read_env_file(ENV_EXAMPLE, commented=True)
    assert not unknown_settings(documented)
    with only_these_settings(active):
        Settings()
    for name, value in documented.items():
        if name.startswith("AGENTTRACE_") and value:
            with only_these_settings({name: value}):
                Settings()
