"""The Dockerfile (Docker cannot run here): its settings are real, it runs as a non-root
user, puts the dashboard where an installed package looks for it, and its HEALTHCHECK
asks each process the right question."""

from __future__ import annotations

import re
import shlex
from pathlib import Path, PurePosixPath

import pytest

import agenttrace
import agenttrace.dashboard
from tests.deploy.manifests import (
    DOCKERFILE,
    ROOT,
    invoke,
    load_healthcheck,
    only_these_settings,
)

DOCKERIGNORE = ROOT / ".dockerignore"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions():
        if keyword == "FROM":
            found.append([])
        if found:
            found[-1].append((keyword, rest))
    return found


def final_env() -> dict[str, str]:
    env = {}
    for keyword, rest in stages()[-1]:
        if keyword == "ENV":
            env |= dict(item.split("=", 1) for item in shlex.split(rest))
    return env


def test_three_stages_node_builds_the_dashboard_python_installs_without_dev_extras() -> None:
    node, python, final = stages()
    assert node[0][1].startswith("node:20")
    assert node[0][1].endswith("AS dashboard")
    assert ("COPY", "schema.graphql /src/schema.graphql") in node, "codegen needs the schema"
    assert any(k == "RUN" and "npm run build" in r for k, r in node)
    assert python[0][1].startswith("python:3.11-slim")
    installs = [r for k, r in python if k == "RUN" and "pip install" in r]
    assert installs
    assert all(re.search(r"pip install \.(\s|$)", r) for r in installs), "no extras"
    assert final[0][1] == "python:3.11-slim"


def test_it_runs_agenttrace_as_a_non_root_user() -> None:
    final = stages()[-1]
    args = dict(r.split("=", 1) for k, r in final if k == "ARG")
    (user,) = [r for k, r in final if k == "USER"]
    uid = user.replace("${UID}", args["UID"]).split(":")[0]
    assert uid.isdigit(), "a numeric user: runAsNonRoot can only check those"
    assert int(uid) > 0
    assert ("ENTRYPOINT", '["agenttrace"]') in final


def test_the_image_environment_is_made_of_real_settings() -> None:
    env = final_env()
    settings = invoke("Dockerfile ENV", ["serve"], env).settings
    assert settings.host == "0.0.0.0"


def test_the_dashboard_is_copied_where_the_installed_package_serves_it_from() -> None:
    """agenttrace/dashboard.py serves a path relative to the installed package; for a
    non-editable install into /opt/venv that is the virtualenv's site-packages."""
    package_parent = Path(agenttrace.__file__).resolve().parents[1]
    relative = agenttrace.dashboard.DIST.resolve().relative_to(package_parent)
    site_packages = PurePosixPath("/opt/venv/lib/python3.11/site-packages")
    copies = [r.split() for k, r in stages()[-1] if k == "COPY" and "--from=dashboard" in r]
    assert copies, "the final stage copies the built dashboard"
    (copy,) = copies
    assert copy[-2] == "/src/dashboard/dist"
    assert PurePosixPath(copy[-1]) == site_packages / relative.as_posix()


def test_the_healthcheck_script_is_in_the_build_context() -> None:
    final = stages()[-1]
    (healthcheck,) = [r for k, r in final if k == "HEALTHCHECK"]
    assert healthcheck.endswith('CMD ["agenttrace-healthcheck"]')
    (copy,) = [r.split() for k, r in final if k == "COPY" and "agenttrace-healthcheck" in r]
    assert (ROOT / copy[-2]).is_file()
    ignored = DOCKERIGNORE.read_text().splitlines()
    assert f"!{copy[-2]}" in ignored


@pytest.mark.parametrize("secret", [".env", ".git", ".venv", "dashboard/node_modules"])
def test_dockerignore_keeps_secrets_and_local_state_out(secret: str) -> None:
    assert secret in DOCKERIGNORE.read_text().splitlines()


@pytest.mark.parametrize(
    ("argv", "env", "url"),
    [
        (["/opt/venv/bin/python", "/opt/venv/bin/agenttrace", "serve"], {}, "/healthz@8000"),
        (["agenttrace", "ingest", "--port", "4318"], {}, "/healthz@4318"),
        (["agenttrace", "api", "--port=9000"], {}, "/healthz@9000"),
        (["agenttrace", "api"], {"AGENTTRACE_PORT": "8080"}, "/healthz@8080"),
        (["agenttrace", "worker"], {"AGENTTRACE_WORKER_METRICS_PORT": "9464"}, "/metrics@9464"),
        (["agenttrace", "worker"], {}, None),
        (["agenttrace", "migrate"], {}, None),
        (["agenttrace", "project", "create", "api"], {}, None),
        (["sh"], {}, None),
    ],
)
def test_the_healthcheck_asks_each_process_what_it_serves(
    argv: list[str], env: dict[str, str], url: str | None
) -> None:
    with only_these_settings({"AGENTTRACE_HOST": "0.0.0.0", **env}):
        got = load_healthcheck().probe_url(argv)
    if url is None:
        assert got is None
    else:
        path, port = url.split("@")
        assert got == f"http://127.0.0.1:{port}{path}"
