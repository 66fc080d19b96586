"""Reading the deploy files the way their tools do, and what the code says they must match:
the CLI's parser, the settings, the routes of each process, the metric names."""

from __future__ import annotations

import argparse
import copy
import importlib.util
import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from agenttrace.cli import _parser, _settings
from agenttrace.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BASE = DEPLOY / "base"
PRODUCTION = DEPLOY / "overlays" / "production"
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"
DOCKERFILE = ROOT / "Dockerfile"
PREFIX = "AGENTTRACE_"

# Kubernetes releases the manifests must be valid for: an old one still run by managed
# services, and the newest kubernetes-validate knows.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")


def load_documents(path: Path) -> list[dict[str, Any]]:
    with path.open() as f:
        return [doc for doc in yaml.safe_load_all(f) if doc]


# --- kustomize, as much of it as deploy/ uses ---------------------------------------------

CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PriorityClass"}
SUPPORTED_KUSTOMIZATION_KEYS = {"apiVersion", "kind", "namespace", "resources", "images", "patches"}


def _key(doc: Mapping[str, Any]) -> tuple[str, str]:
    return doc["kind"], doc["metadata"]["name"]


def strategic_merge(target: Any, patch: Any) -> Any:
    """Kubernetes' strategic merge for what our patches touch: maps merge key by key, and
    lists of named objects (containers, env, volumes) merge by ``name``; other lists and
    scalars are replaced."""
    if isinstance(target, dict) and isinstance(patch, dict):
        merged = dict(target)
        for key, value in patch.items():
            merged[key] = strategic_merge(target[key], value) if key in target else value
        return merged
    if (
        isinstance(target, list)
        and isinstance(patch, list)
        and all(isinstance(item, dict) and "name" in item for item in [*target, *patch])
    ):
        patches = {item["name"]: item for item in patch}
        merged_list = []
        for item in target:
            change = patches.pop(item["name"], None)
            merged_list.append(item if change is None else strategic_merge(item, change))
        return merged_list + list(patches.values())
    return copy.deepcopy(patch)


def _pod_specs(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if doc["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job"}:
        yield doc["spec"]["template"]["spec"]


def _set_image(image: str, rule: Mapping[str, str]) -> str:
    head, _, last = image.rpartition("/")
    name, _, tag = last.partition(":")
    name = f"{head}/{name}" if head else name
    if name != rule["name"]:
        return image
    return f"{rule.get('newName', name)}:{rule.get('newTag', tag)}"


def render_kustomization(directory: Path) -> list[dict[str, Any]]:
    """What ``kustomize build directory`` gives, for the features listed in
    SUPPORTED_KUSTOMIZATION_KEYS (the test fails on any other, rather than ignore it)."""
    kustomization = load_documents(directory / "kustomization.yaml")[0]
    unsupported = set(kustomization) - SUPPORTED_KUSTOMIZATION_KEYS
    assert not unsupported, f"{directory}: teach tests/deploy/manifests.py {unsupported}"
    docs: list[dict[str, Any]] = []
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        docs += render_kustomization(path) if path.is_dir() else load_documents(path)
    by_key = {_key(doc): doc for doc in docs}
    assert len(by_key) == len(docs), f"{directory}: two resources with one kind and name"
    for entry in kustomization.get("patches", []):
        assert set(entry) == {"path"}, f"{directory}: only strategic-merge patch files: {entry}"
        for patch in load_documents(directory / entry["path"]):
            key = _key(patch)
            assert key in by_key, f"{directory / entry['path']} patches a missing {key}"
            by_key[key] = strategic_merge(by_key[key], patch)
    docs = list(by_key.values())
    for doc in docs:
        for rule in kustomization.get("images", []):
            for spec in _pod_specs(doc):
                for container in [*spec.get("initContainers", []), *spec["containers"]]:
                    container["image"] = _set_image(container["image"], rule)
        if "namespace" in kustomization and doc["kind"] not in CLUSTER_SCOPED:
            doc["metadata"]["namespace"] = kustomization["namespace"]
    return docs


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


# --- the CLI and the settings -------------------------------------------------------------


@dataclass(frozen=True)
class Invocation:
    """One ``agenttrace`` command line with its environment, as the process sees them."""

    where: str
    args: argparse.Namespace
    settings: Settings
    env: dict[str, str]


@contextmanager
def only_these_settings(env: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` with exactly these AGENTTRACE_* variables (and none of the caller's)."""
    saved = {k: v for k, v in os.environ.items() if k.startswith(PREFIX)}
    for name in saved:
        del os.environ[name]
    os.environ.update({k: v for k, v in env.items() if k.startswith(PREFIX)})
    try:
        yield
    finally:
        for name in [k for k in os.environ if k.startswith(PREFIX)]:
            del os.environ[name]
        os.environ.update(saved)


def unknown_settings(env: Mapping[str, str]) -> list[str]:
    """AGENTTRACE_* names that are no field of Settings (pydantic-settings would silently
    ignore them: extra="ignore")."""
    fields = {PREFIX + name.upper() for name in Settings.model_fields}
    return sorted(name for name in env if name.startswith(PREFIX) and name not in fields)


def invoke(where: str, argv: list[str], env: Mapping[str, str]) -> Invocation:
    """Parses argv with the CLI's own parser and builds the Settings the process would run
    with (environment, then the flags over it, as agenttrace.cli does). Fails on an unknown
    subcommand, flag or setting, and on a value the settings refuse."""
    unknown = unknown_settings(env)
    assert not unknown, f"{where}: not settings of agenttrace/settings.py: {unknown}"
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        raise AssertionError(f"{where}: `agenttrace {' '.join(argv)}` does not parse") from exc
    with only_these_settings(env):
        settings = _settings(args)
    return Invocation(where, args, settings, dict(env))


def read_env_file(path: Path, *, commented: bool = False) -> dict[str, str]:
    """KEY=value lines of a dotenv file; with ``commented``, also ``# KEY=value`` lines
    (settings documented but left out)."""
    pattern = re.compile(r"^\s*(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$")
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = pattern.match(line)
        if match and (commented or not match.group(1)):
            values[match.group(2)] = match.group(3).strip()
    return values


# --- what the processes serve -------------------------------------------------------------


def build_process_app(command: str) -> Any:
    """The ASGI app of ``agenttrace <command>``, built without starting it (the database and
    the bus are only touched by its lifespan)."""
    from agenttrace.apps import Roles, build_app

    roles = {"ingest": Roles(ingest=True), "api": Roles(query=True)}[command]
    return build_app(Settings(), "postgresql+asyncpg://unused@127.0.0.1:1/unused", roles)


def served_get_paths(command: str) -> set[str]:
    """The GET paths the app of ``agenttrace <command>`` declares (its OpenAPI document;
    the health router's are in it)."""
    paths = build_process_app(command).openapi()["paths"]
    return {path for path, operations in paths.items() if "get" in operations}


METRIC_MODULES = (
    "ingest.metrics",
    "workers.metrics",
    "storage.db_metrics",
    "messaging.kafka_bus",
    "messaging.live_events",
    "cache.store",
    "access.rate_limits",
)
"""Where AgentTrace's metrics are defined (docs/operations.md lists them)."""


def metric_samples() -> dict[str, str]:
    """Every sample name the AgentTrace processes can expose on /metrics, mapped to the
    metric's name as documented (counters with _total, histograms without a suffix): the
    metrics of the modules that define them, read from prometheus-client's registry."""
    from prometheus_client import REGISTRY

    for module in METRIC_MODULES:
        importlib.import_module(module)
    suffixes = {
        "counter": ("_total", "_created"),
        "gauge": ("",),
        "histogram": ("_bucket", "_sum", "_count", "_created"),
        "summary": ("", "_sum", "_count", "_created"),
    }
    samples = {}
    for family in REGISTRY.collect():
        if family.name.startswith("agenttrace_"):
            documented = family.name + ("_total" if family.type == "counter" else "")
            samples |= {family.name + suffix: documented for suffix in suffixes[family.type]}
    return samples


def metric_sample_names() -> set[str]:
    return set(metric_samples())


METRIC_IN_PROMQL = re.compile(r"\bagenttrace_[a-z0-9_]+\b")


def promql_metrics(expr: str) -> set[str]:
    return set(METRIC_IN_PROMQL.findall(expr))


def load_healthcheck() -> ModuleType:
    """deploy/docker/healthcheck.py, the image's HEALTHCHECK, as a module."""
    path = DEPLOY / "docker" / "healthcheck.py"
    spec = importlib.util.spec_from_file_location("agenttrace_healthcheck", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
