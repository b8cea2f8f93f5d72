"""Fixtures for the healer: a stand-in cluster with a small sample app, and healer settings."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from self_healing_service.settings import Settings

DATA = Path(__file__).resolve().parents[1] / "data" / "alerts"

SAMPLE_APP: dict[str, Any] = {
    "nodes": [{"name": "node-a"}, {"name": "node-b"}],
    "namespaces": [
        {
            "name": "shop",
            "labels": {"team": "shop"},
            "deployments": [
                {
                    "name": "checkout",
                    "replicas": 2,
                    "labels": {"app": "checkout", "tier": "web"},
                    "containers": [
                        {
                            "name": "checkout",
                            "image": "shop/checkout:1.0",
                            "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
                        }
                    ],
                },
                {
                    "name": "cart",
                    "replicas": 1,
                    "labels": {"app": "cart"},
                    "annotations": {"healer.selfheal.dev/opt-out": "true"},
                    "containers": [
                        {
                            "name": "cart",
                            "image": "shop/cart:1.0",
                            "resources": {"limits": {"cpu": "250m", "memory": "128Mi"}},
                        }
                    ],
                },
            ],
        },
        {
            "name": "kube-system",
            "deployments": [
                {
                    "name": "kube-dns",
                    "replicas": 1,
                    "labels": {"app": "kube-dns"},
                    "containers": [{"name": "dns", "image": "k8s/dns:1.0"}],
                },
            ],
        },
    ],
}


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Any]:
    from kube_standin.cluster import StandinCluster
    from kube_standin.controller import SimulationSettings

    standin = StandinCluster(SAMPLE_APP, settings=SimulationSettings(ready_delay_seconds=0.0))
    standin.start()
    standin.write_kubeconfig(str(tmp_path / "kubeconfig"), context_name="standin")
    standin.kubeconfig_path = str(tmp_path / "kubeconfig")
    try:
        yield standin
    finally:
        standin.stop()


def pods_of(cluster: Any, namespace: str, app: str) -> list[str]:
    from kubernetes import client, config

    api = client.CoreV1Api(config.new_client_from_config(config_file=cluster.kubeconfig_path))
    pods = api.list_namespaced_pod(namespace, label_selector=f"app={app}").items
    return sorted(p.metadata.name for p in pods if p.metadata.deletion_timestamp is None)


def incident_doc(name: str = "cpu_high_open.json", **changes: Any) -> dict[str, Any]:
    doc = json.loads((DATA / name).read_text())
    inc = doc["incident"]
    for key, value in changes.items():
        if key in ("namespace_name", "pod_name", "container_name", "cluster_name"):
            inc["resource"]["labels"][key] = value
        elif key == "controller":
            inc["metadata"]["system_labels"]["top_level_controller_name"] = value
        else:
            inc[key] = value
    return doc


def push_body(doc: dict[str, Any], message_id: str = "1") -> bytes:
    data = base64.b64encode(json.dumps(doc).encode()).decode()
    return json.dumps(
        {
            "message": {
                "data": data,
                "messageId": message_id,
                "message_id": message_id,
                "publishTime": "2026-11-23T10:00:00Z",
            },
            "subscription": "projects/p/subscriptions/alerts-to-healer",
        }
    ).encode()


def healer_settings(cluster: Any, **overrides: Any) -> Settings:
    base = {
        "HEALER_AUTH_DISABLED": "true",
        "HEALER_KUBE_MODE": "kubeconfig",
        "HEALER_KUBECONFIG": cluster.kubeconfig_path,
        "HEALER_VERIFY_TIMEOUT_SECONDS": "5",
        "HEALER_VERIFY_POLL_SECONDS": "0.05",
        "HEALER_NOTIFY_BACKOFF_SECONDS": "0.01",
        "HEALER_CHATOPS_ID_TOKEN": "false",
    }
    base.update({k: str(v) for k, v in overrides.items()})
    return Settings.from_env(base)
