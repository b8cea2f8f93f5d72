"""The sample application the scenario runs on the stand-in cluster.

A small shop in namespace `shop` and one agent in the protected namespace `kube-system`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SHOP = "shop"
PROTECTED = "kube-system"
NAMESPACES = (SHOP, PROTECTED)
NODES = ("demo-pool-a-1", "demo-pool-a-2", "demo-pool-a-3")


@dataclass(frozen=True)
class Workload:
    namespace: str
    name: str
    replicas: int
    image: str
    cpu_limit: str = "500m"
    memory_limit: str = "256Mi"


WORKLOADS: tuple[Workload, ...] = (
    Workload(SHOP, "frontend", 3, "registry.local/shop/frontend:1.4.2"),
    Workload(SHOP, "checkout", 2, "registry.local/shop/checkout:2.1.0"),
    Workload(SHOP, "cart", 2, "registry.local/shop/cart:1.9.3"),
    Workload(SHOP, "catalog", 2, "registry.local/shop/catalog:3.0.1"),
    Workload(PROTECTED, "metrics-agent", 1, "registry.local/system/metrics-agent:0.9.0", "200m", "128Mi"),
)


def namespace_manifest(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def deployment_manifest(workload: Workload) -> dict[str, Any]:
    labels = {"app": workload.name, "tier": "system" if workload.namespace == PROTECTED else "web"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": workload.name, "namespace": workload.namespace, "labels": labels},
        "spec": {
            "replicas": workload.replicas,
            "selector": {"matchLabels": {"app": workload.name}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": workload.name,
                            "image": workload.image,
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "128Mi"},
                                "limits": {"cpu": workload.cpu_limit, "memory": workload.memory_limit},
                            },
                        }
                    ]
                },
            },
        },
    }


def node_object(name: str, now_rfc3339: str) -> dict[str, Any]:
    ready = {
        "type": "Ready",
        "status": "True",
        "reason": "KubeletReady",
        "message": "kubelet is posting ready status",
        "lastHeartbeatTime": now_rfc3339,
        "lastTransitionTime": now_rfc3339,
    }
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "cloud.google.com/gke-nodepool": "demo-pool",
                "topology.kubernetes.io/zone": "europe-west1-b",
            },
        },
        "spec": {},
        "status": {
            "capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"},
            "allocatable": {"cpu": "3920m", "memory": "14Gi", "pods": "110"},
            "conditions": [ready],
        },
    }
