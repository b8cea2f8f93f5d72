"""Connecting through a written kubeconfig (Python client and kubectl) and watching."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config, watch

from kube_standin.cluster import StandinCluster
from kube_standin.controller import SimulationSettings

SHOP = Path(__file__).parent / "data" / "shop.yaml"


@pytest.fixture
def open_cluster() -> Iterator[StandinCluster]:
    """No token check: kubectl does not send bearer tokens over plain http."""
    with StandinCluster(SHOP, seed=11, settings=SimulationSettings(ready_delay_seconds=0.05)) as running:
        yield running


def test_load_kube_config_from_written_file(cluster: StandinCluster, tmp_path: Path) -> None:
    path = cluster.write_kubeconfig(tmp_path / "kube" / "config", context_name="gke_shop")
    contexts, active = config.list_kube_config_contexts(config_file=str(path))
    assert active["name"] == "gke_shop" and [c["name"] for c in contexts] == ["gke_shop"]
    api = config.new_client_from_config(config_file=str(path), context="gke_shop")
    with api:
        names = [d.metadata.name for d in client.AppsV1Api(api).list_namespaced_deployment("shop").items]
    assert names == ["reports", "web", "worker"]
    loaded = client.Configuration()
    config.load_kube_config(config_file=str(path), client_configuration=loaded)
    assert loaded.host == cluster.url and loaded.api_key["authorization"] == f"Bearer {cluster.token}"
    assert cluster.kubeconfig_dict()["current-context"] == "standin"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kubectl_rollout_restart_status_and_undo(open_cluster: StandinCluster, tmp_path: Path) -> None:
    path = open_cluster.write_kubeconfig(tmp_path / "config")

    def kubectl(*args: str) -> str:
        done = subprocess.run(
            ["kubectl", "--kubeconfig", str(path), "-n", "shop", *args],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "deployment.apps/web restarted" in kubectl("rollout", "restart", "deployment/web")
    assert 'deployment "web" successfully rolled out' in kubectl("rollout", "status", "deployment/web", "--timeout=30s")
    assert (
        open_cluster.get("deployments", "shop", "web")["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
        == "3"
    )
    assert "rolled back" in kubectl("rollout", "undo", "deployment/web")
    kubectl("rollout", "status", "deployment/web", "--timeout=30s")
    web = open_cluster.get("deployments", "shop", "web")
    assert "kubectl.kubernetes.io/restartedAt" not in (web["spec"]["template"]["metadata"].get("annotations") or {})
    kubectl("scale", "deployment/worker", "--replicas=3")
    assert open_cluster.get("deployments", "shop", "worker")["spec"]["replicas"] == 3
    kubectl("cordon", "gke-shop-batch-pool-3c4d-y1")
    assert open_cluster.get("nodes", "", "gke-shop-batch-pool-3c4d-y1")["spec"]["unschedulable"] is True
    table = kubectl("get", "deployments").splitlines()  # served as a meta.k8s.io Table
    assert table[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert table[2].split()[:4] == ["web", "3/3", "3", "3"]
    nodes = kubectl("get", "nodes").splitlines()
    assert "Ready,SchedulingDisabled" in next(line for line in nodes if line.startswith("gke-shop-batch-pool"))


def test_watch_streams_changes_to_deployments(open_cluster: StandinCluster) -> None:
    with client.ApiClient(client.Configuration(host=open_cluster.url)) as api:
        apps = client.AppsV1Api(api)
        start = apps.list_namespaced_deployment("shop").metadata.resource_version
        seen: list[tuple[str, str, int]] = []

        def scale_later() -> None:
            apps.patch_namespaced_deployment_scale("worker", "shop", {"spec": {"replicas": 3}})

        stream = watch.Watch()
        threading.Timer(0.05, scale_later).start()
        for event in stream.stream(
            apps.list_namespaced_deployment,
            "shop",
            resource_version=start,
            field_selector="metadata.name=worker",
            timeout_seconds=10,
        ):
            deployment = event["object"]
            seen.append((event["type"], deployment.metadata.name, deployment.status.ready_replicas or 0))
            if deployment.status.ready_replicas == 3:
                stream.stop()
        assert seen[-1] == ("MODIFIED", "worker", 3)
        assert {name for _, name, _ in seen} == {"worker"}
        initial = watch.Watch().stream(apps.list_namespaced_deployment, "shop", timeout_seconds=1)
        first = next(initial)
        assert first["type"] == "ADDED" and first["object"].metadata.name == "reports"
        initial.close()
