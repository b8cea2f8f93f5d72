"""GKE-like Node objects for fixtures."""

from __future__ import annotations

import hashlib
from typing import Any

from kube_standin.clock import rfc3339
from kube_standin.controller import Controller
from kube_standin.fixture_checks import FixtureError, boolean, expect_list, expect_map, string_map

Obj = dict[str, Any]
NODE_KEYS = {
    "name",
    "labels",
    "annotations",
    "capacity",
    "allocatable",
    "ready",
    "unschedulable",
    "conditions",
    "pool",
    "zone",
    "machine_type",
}


def build_node(spec: Any, where: str, controller: Controller) -> Obj:
    spec = expect_map(spec, where, NODE_KEYS, ("name",))
    name = str(spec["name"])
    pool = str(spec.get("pool", "default-pool"))
    zone = str(spec.get("zone", "europe-west1-b"))
    machine = str(spec.get("machine_type", "e2-standard-4"))
    capacity = {
        "cpu": "4",
        "ephemeral-storage": "98831908Ki",
        "memory": "16393340Ki",
        "pods": "110",
        **string_map(spec.get("capacity"), f"{where}.capacity"),
    }
    allocatable = {
        "cpu": "3920m",
        "ephemeral-storage": "47060071478",
        "memory": "13208700Ki",
        "pods": "110",
        **string_map(spec.get("allocatable"), f"{where}.allocatable"),
    }
    ready = boolean(spec.get("ready", True), f"{where}.ready")
    now = rfc3339(controller.store.clock.now())
    conditions = [
        {
            "type": kind,
            "status": "False",
            "reason": reason,
            "message": message,
            "lastHeartbeatTime": now,
            "lastTransitionTime": now,
        }
        for kind, reason, message in (
            ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
        )
    ]
    conditions.append(
        {
            "type": "Ready",
            "status": "True" if ready else "False",
            "reason": "KubeletReady" if ready else "KubeletNotReady",
            "message": "kubelet is posting ready status" if ready else "container runtime is down",
            "lastHeartbeatTime": now,
            "lastTransitionTime": now,
        }
    )
    for index, override in enumerate(expect_list(spec.get("conditions"), f"{where}.conditions")):
        override = expect_map(
            override, f"{where}.conditions[{index}]", {"type", "status", "reason", "message"}, ("type", "status")
        )
        if override["status"] not in ("True", "False", "Unknown"):
            raise FixtureError(f"{where}.conditions[{index}].status: must be True, False or Unknown")
        existing = next((c for c in conditions if c["type"] == override["type"]), None)
        if existing is None:
            existing = {"type": override["type"], "lastHeartbeatTime": now, "lastTransitionTime": now}
            conditions.append(existing)
        existing.update({k: str(v) for k, v in override.items()})
    digest = hashlib.sha256(name.encode()).digest()[0] % 250
    return {
        "metadata": {
            "name": name,
            "labels": {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "cloud.google.com/gke-nodepool": pool,
                "cloud.google.com/machine-family": machine.split("-")[0],
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "node.kubernetes.io/instance-type": machine,
                "topology.kubernetes.io/region": zone.rsplit("-", 1)[0],
                "topology.kubernetes.io/zone": zone,
                **string_map(spec.get("labels"), f"{where}.labels"),
            },
            "annotations": string_map(spec.get("annotations"), f"{where}.annotations"),
        },
        "spec": {
            "podCIDR": f"10.{100 + digest % 20}.{digest}.0/24",
            "providerID": f"gce://standin-project/{zone}/{name}",
            "unschedulable": boolean(spec.get("unschedulable", False), f"{where}.unschedulable"),
        },
        "status": {
            "capacity": capacity,
            "allocatable": allocatable,
            "conditions": conditions,
            "addresses": [
                {"type": "InternalIP", "address": f"10.132.0.{2 + digest}"},
                {"type": "Hostname", "address": name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": controller.store.new_uid(),
                "containerRuntimeVersion": "containerd://1.7.22",
                "kernelVersion": "6.1.100+",
                "kubeProxyVersion": "v1.30.5-gke.1014001",
                "kubeletVersion": "v1.30.5-gke.1014001",
                "machineID": controller.store.new_uid().replace("-", ""),
                "operatingSystem": "linux",
                "osImage": "Container-Optimized OS from Google",
                "systemUUID": controller.store.new_uid(),
            },
        },
    }
