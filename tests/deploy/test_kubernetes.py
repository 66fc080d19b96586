"""deploy/ (kustomize base and the production overlay): every document is valid Kubernetes,
and every container runs a real ``agenttrace`` command with real settings, probed on paths
and ports its process serves, scaled on a metric that exists."""

from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from messaging import topics
from tests.deploy.manifests import (
    BASE,
    DOCKERFILE,
    KUBERNETES_VERSIONS,
    PRODUCTION,
    Invocation,
    by_kind,
    invoke,
    load_documents,
    metric_sample_names,
    render_kustomization,
    served_get_paths,
)

SECRET_TEMPLATE = BASE / "secret.example.yaml"
VARIANTS = {"base": BASE, "production": PRODUCTION}
HPA_SCALED = {"agenttrace-ingest", "agenttrace-api", "agenttrace-worker"}


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {name: render_kustomization(path) for name, path in VARIANTS.items()}


def kubernetes_documents() -> list[tuple[str, dict[str, Any]]]:
    """The base's files as written (the Secret template too), and both renders (the
    overlay's patches are partial documents: they are checked applied)."""
    docs = []
    for path in sorted(BASE.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs += [(f"base/{path.name}", doc) for doc in load_documents(path)]
    for name, path in VARIANTS.items():
        docs += [(f"{name} (rendered)", doc) for doc in render_kustomization(path)]
    return docs


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_document_validates_against_the_kubernetes_schemas(version: str) -> None:
    failures = []
    for where, doc in kubernetes_documents():
        name = f"{where}: {doc['kind']}/{doc['metadata']['name']}"
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            failures.append(f"{name}: {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            failures.append(f"{name}: {exc.message}")
    assert not failures, "\n".join(failures)


def test_the_validator_does_reject_a_broken_manifest() -> None:
    deployment = by_kind(render_kustomization(BASE), "Deployment")["agenttrace-api"]
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGett"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


def test_the_base_lists_every_manifest_but_the_secret_template() -> None:
    listed = set(load_documents(BASE / "kustomization.yaml")[0]["resources"])
    files = {p.name for p in BASE.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == files - {SECRET_TEMPLATE.name}
    # The template is never applied with placeholder credentials.
    assert SECRET_TEMPLATE.name not in listed


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (with kustomize) not here")
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_render_here_is_what_kustomize_builds(variant: str) -> None:
    """The renderer of these tests against the real kustomize (built into kubectl)."""
    done = subprocess.run(
        ["kubectl", "kustomize", str(VARIANTS[variant])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    import yaml

    real = {(d["kind"], d["metadata"]["name"]): d for d in yaml.safe_load_all(done.stdout) if d}
    ours = {(d["kind"], d["metadata"]["name"]): d for d in render_kustomization(VARIANTS[variant])}
    assert real == ours


# --- what runs: commands, settings, probes, ports ------------------------------------------


def container_env(
    container: dict[str, Any], docs: list[dict[str, Any]], secret: dict[str, Any]
) -> dict[str, str]:
    """The environment a container gets: envFrom in order (later wins), then env."""
    config_maps = by_kind(docs, "ConfigMap")
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env |= config_maps[source["configMapRef"]["name"]]["data"]
        else:
            assert source["secretRef"]["name"] == secret["metadata"]["name"]
            env |= secret["stringData"]
    for item in container.get("env", []):
        env[item["name"]] = item["value"]
    return env


def workloads(docs: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(workload, container) for every container of every Deployment and Job."""
    found = []
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            for container in doc["spec"]["template"]["spec"]["containers"]:
                found.append((doc, container))
    return found


def invocation(
    doc: dict[str, Any], container: dict[str, Any], docs: list[dict[str, Any]]
) -> Invocation:
    secret = load_documents(SECRET_TEMPLATE)[0]
    assert "command" not in container, "the image's ENTRYPOINT is agenttrace: set args"
    where = f"{doc['kind']}/{doc['metadata']['name']}"
    return invoke(where, container["args"], container_env(container, docs, secret))


def port_number(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    return next(int(p["containerPort"]) for p in container["ports"] if p["name"] == port)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_containers_run_real_commands_with_real_settings(
    rendered: dict[str, list[dict[str, Any]]], variant: str
) -> None:
    docs = rendered[variant]
    commands = {}
    for doc, container in workloads(docs):
        inv = invocation(doc, container, docs)
        commands[doc["metadata"]["name"]] = inv.args.command
        assert inv.settings.database_url is not None, f"{inv.where}: no database"
        assert inv.settings.redis_url is not None, f"{inv.where}: no Redis"
        if inv.args.command in ("ingest", "worker"):
            assert inv.settings.kafka_bootstrap_servers is not None, inv.where
    assert commands == {
        "agenttrace-migrate": "migrate",
        "agenttrace-ingest": "ingest",
        "agenttrace-worker": "worker",
        "agenttrace-api": "api",
    }


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_servers_are_probed_on_paths_they_serve_on_the_port_they_listen_on(
    rendered: dict[str, list[dict[str, Any]]], variant: str
) -> None:
    docs = rendered[variant]
    services = by_kind(docs, "Service")
    for doc, container in workloads(docs):
        inv = invocation(doc, container, docs)
        if inv.args.command not in ("ingest", "api"):
            continue
        paths = served_get_paths(inv.args.command)
        port = inv.settings.port
        assert inv.settings.host == "0.0.0.0", f"{inv.where} listens on loopback only"
        assert [p["containerPort"] for p in container["ports"]] == [port], inv.where
        probes = {
            kind: container[kind]["httpGet"]
            for kind in ("startupProbe", "readinessProbe", "livenessProbe")
        }
        assert probes["readinessProbe"]["path"] == "/readyz", inv.where
        assert probes["livenessProbe"]["path"] == "/healthz", inv.where
        for kind, probe in probes.items():
            assert probe["path"] in paths, f"{inv.where} {kind}: {probe['path']} is not served"
            assert port_number(container, probe["port"]) == port, f"{inv.where} {kind}"
        annotations = doc["spec"]["template"]["metadata"]["annotations"]
        assert int(annotations["prometheus.io/port"]) == port, inv.where
        assert annotations["prometheus.io/path"] in paths, inv.where
        service = services[doc["metadata"]["name"]]
        assert service["spec"]["selector"].items() <= labels(doc).items(), inv.where
        for service_port in service["spec"]["ports"]:
            assert port_number(container, service_port["targetPort"]) == port, inv.where


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_workers_are_probed_and_scraped_on_their_metrics_port(
    rendered: dict[str, list[dict[str, Any]]], variant: str
) -> None:
    docs = rendered[variant]
    doc = by_kind(docs, "Deployment")["agenttrace-worker"]
    container = doc["spec"]["template"]["spec"]["containers"][0]
    inv = invocation(doc, container, docs)
    port = inv.settings.worker_metrics_port
    assert port > 0, "without AGENTTRACE_WORKER_METRICS_PORT the worker serves no metrics"
    assert inv.settings.host == "0.0.0.0", "the worker's metrics server listens on the host"
    for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
        probe = container[kind]["httpGet"]
        # prometheus-client's server (start_http_server) answers /metrics.
        assert probe["path"] == "/metrics", kind
        assert port_number(container, probe["port"]) == port, kind
    annotations = doc["spec"]["template"]["metadata"]["annotations"]
    assert int(annotations["prometheus.io/port"]) == port
    service = by_kind(docs, "Service")["agenttrace-worker-metrics"]
    assert port_number(container, service["spec"]["ports"][0]["targetPort"]) == port


def labels(doc: dict[str, Any]) -> dict[str, str]:
    result: dict[str, str] = doc["spec"]["template"]["metadata"]["labels"]
    return result


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_selectors_autoscalers_and_budgets_point_at_real_workloads(
    rendered: dict[str, list[dict[str, Any]]], variant: str
) -> None:
    docs = rendered[variant]
    deployments = by_kind(docs, "Deployment")
    for name, deployment in deployments.items():
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= labels(deployment).items(), name
    hpas = by_kind(docs, "HorizontalPodAutoscaler")
    assert {hpa["spec"]["scaleTargetRef"]["name"] for hpa in hpas.values()} == HPA_SCALED
    for hpa in hpas.values():
        target = hpa["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", hpa["metadata"]["name"])
        assert "replicas" not in deployments[target["name"]]["spec"], "the HPA owns replicas"
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
    for name in ("agenttrace-ingest", "agenttrace-api"):
        (metric,) = hpas[name]["spec"]["metrics"]
        assert (metric["type"], metric["resource"]["name"]) == ("Resource", "cpu"), name
    budgets = by_kind(docs, "PodDisruptionBudget")
    assert set(budgets) == HPA_SCALED
    for name, budget in budgets.items():
        match = budget["spec"]["selector"]["matchLabels"]
        assert match.items() <= labels(deployments[name]).items(), name
        assert budget["spec"]["maxUnavailable"] == 1, name


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_workers_scale_on_the_consumer_lag_the_workers_export(
    rendered: dict[str, list[dict[str, Any]]], variant: str
) -> None:
    docs = rendered[variant]
    hpa = by_kind(docs, "HorizontalPodAutoscaler")["agenttrace-worker"]
    (metric,) = hpa["spec"]["metrics"]
    assert metric["type"] == "External"
    name = metric["external"]["metric"]["name"]
    assert name in metric_sample_names(), f"{name} is no metric of the workers"
    doc = by_kind(docs, "Deployment")["agenttrace-worker"]
    inv = invocation(doc, doc["spec"]["template"]["spec"]["containers"][0], docs)
    selector = metric["external"]["metric"]["selector"]["matchLabels"]
    assert selector == {"topic": topics.SPANS, "group": inv.settings.kafka_consumer_group}
    # Workers beyond the partition count own no partition.
    assert hpa["spec"]["maxReplicas"] <= inv.settings.kafka_partitions


def test_prometheus_adapter_serves_the_metric_the_worker_hpa_reads() -> None:
    values = load_documents(BASE.parent / "prometheus-adapter" / "values.yaml")[0]
    (rule,) = values["rules"]["external"]
    hpa = by_kind(render_kustomization(BASE), "HorizontalPodAutoscaler")["agenttrace-worker"]
    wanted = hpa["spec"]["metrics"][0]["external"]["metric"]
    assert rule["name"]["as"] == wanted["name"]
    assert wanted["name"] in rule["seriesQuery"]
    for label in wanted["selector"]["matchLabels"]:
        assert label in rule["metricsQuery"], f"the adapter's query drops the label {label}"


QUANTITY_SUFFIXES = {
    "m": Decimal("0.001"),
    "Ki": Decimal(1024),
    "Mi": Decimal(1024**2),
    "Gi": Decimal(1024**3),
}


def quantity(value: str | int) -> Decimal:
    text = str(value)
    for suffix, factor in QUANTITY_SUFFIXES.items():
        if text.endswith(suffix):
            return Decimal(text[: -len(suffix)]) * factor
    return Decimal(text)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_every_container_has_requests_within_limits_and_runs_as_the_image_user(
    rendered: dict[str, list[dict[str, Any]]], variant: str
) -> None:
    uid = int(
        next(line for line in DOCKERFILE.read_text().splitlines() if "ARG UID=" in line).split("=")[
            1
        ]
    )
    for doc, container in workloads(rendered[variant]):
        where = f"{doc['metadata']['name']}/{container['name']}"
        resources = container["resources"]
        for resource in ("cpu", "memory"):
            request = quantity(resources["requests"][resource])
            limit = quantity(resources["limits"][resource])
            assert 0 < request <= limit, f"{where} {resource}"
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        assert pod["securityContext"]["runAsUser"] == uid, where
        assert pod["automountServiceAccountToken"] is False, where
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, where
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, where


def test_production_pins_its_image_and_grows_from_the_base(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    base, production = rendered["base"], rendered["production"]
    base_containers = {d["metadata"]["name"]: c for d, c in workloads(base)}
    for doc, container in workloads(production):
        name = doc["metadata"]["name"]
        image = container["image"]
        assert image != base_containers[name]["image"], f"{name}: production's own image"
        repository, _, tag = image.rpartition(":")
        assert repository, image
        assert tag not in ("", "latest"), f"{name}: pin a tag, not {image}"
        for bound in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                before = quantity(base_containers[name]["resources"][bound][resource])
                after = quantity(container["resources"][bound][resource])
                assert after >= before, f"{name}: {bound}.{resource} shrank"
    base_hpas = by_kind(base, "HorizontalPodAutoscaler")
    for name, hpa in by_kind(production, "HorizontalPodAutoscaler").items():
        assert hpa["spec"]["minReplicas"] > base_hpas[name]["spec"]["minReplicas"], name
        assert hpa["spec"]["maxReplicas"] > base_hpas[name]["spec"]["maxReplicas"], name


def test_the_secret_template_holds_real_settings_only() -> None:
    secret = load_documents(SECRET_TEMPLATE)[0]
    invoke("secret.example.yaml", ["migrate"], secret["stringData"])
    assert Path(SECRET_TEMPLATE).read_text().count("REPLACE-ME") >= 3
