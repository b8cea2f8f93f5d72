"""Per-pod, per-container resource usage with realistic noise, for metrics generators.

Healthy containers idle at a container-specific fraction of their limit with a slow wave and
small jitter; CPU hogs sit at the limit; OOM-bound containers climb to the limit every restart;
crash-looping containers barely use anything.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any

from kube_standin.clock import rfc3339
from kube_standin.controller import (
    Controller,
    container_limit,
    container_request,
    is_active,
    is_ready,
    node_is_ready,
)
from kube_standin.faults import CRASH_OOM
from kube_standin.quantity import parse_quantity

Obj = dict[str, Any]
UNLIMITED_CPU_CORES = 2.0  # what a hog burns when it has no CPU limit


def _unit(seed: str) -> float:
    """A stable pseudo-random number in [0, 1)."""
    return int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big") / 2**64


def _jitter(seed: str, now: float) -> float:
    """Noise in [-1, 1] that changes every second."""
    return _unit(f"{seed}/{int(now)}") * 2 - 1


def container_usage(controller: Controller, pod: Obj, container: Obj, now: float) -> Obj:
    uid = pod["metadata"]["uid"]
    name = container["name"]
    seed = f"{uid}/{name}"
    cpu_limit = container_limit(container, "cpu")
    cpu_request = container_request(container, "cpu")
    memory_limit = container_limit(container, "memory")
    memory_request = container_request(container, "memory")
    runtime = controller.runtime.get(uid)
    ctr = runtime.containers.get(name) if runtime else None
    status: Obj = next((s for s in pod.get("status", {}).get("containerStatuses") or [] if s.get("name") == name), {})
    cpu_scale = cpu_limit or cpu_request or 0.5
    memory_scale = memory_limit or memory_request or 256 * 2**20
    faults: list[str] = []
    if ctr is None:
        cpu_fraction, memory_fraction = 0.0, 0.0
    elif ctr.pulling_since is not None:
        faults.append("image-pull")
        cpu_fraction, memory_fraction = 0.0, 0.0
    elif ctr.crash_reason == CRASH_OOM:
        faults.append("oom")
        need = controller.memory_need(pod, name) or memory_scale
        schedule = controller.crash_schedule(ctr, now)
        phase = (now - ctr.crash_since - schedule.last) / schedule.delay
        memory_fraction = min(1.0, 0.3 + phase * need / memory_scale)
        cpu_fraction = 0.35 + 0.1 * _jitter(seed + "/cpu", now)
    elif ctr.crash_reason is not None:
        faults.append("crash-loop")
        cpu_fraction = 0.01 + 0.01 * abs(_jitter(seed + "/cpu", now))
        memory_fraction = 0.04 + 0.01 * abs(_jitter(seed + "/mem", now))
    else:
        base = 0.15 + 0.3 * _unit(seed + "/cpu-base")
        wave = 1 + 0.25 * math.sin(2 * math.pi * now / 300 + 6.28 * _unit(seed + "/phase"))
        cpu_fraction = max(0.01, base * wave + 0.04 * _jitter(seed + "/cpu", now))
        memory_base = 0.3 + 0.3 * _unit(seed + "/mem-base")
        memory_fraction = memory_base + 0.01 * _jitter(seed + "/mem", now)
    if controller.faults.is_cpu_hog(uid, name):
        faults.append("cpu-hog")
        cpu_fraction = 0.97 + 0.03 * abs(_jitter(seed + "/hog", now))
        if cpu_limit is None:
            cpu_scale = UNLIMITED_CPU_CORES
    cpu_cores = cpu_fraction * cpu_scale
    memory_bytes = memory_fraction * memory_scale
    return {
        "name": name,
        "cpu_cores": round(cpu_cores, 6),
        "cpu_limit_cores": cpu_limit,
        "cpu_request_cores": cpu_request,
        "cpu_limit_utilization": round(cpu_cores / cpu_limit, 6) if cpu_limit else None,
        "memory_bytes": int(memory_bytes),
        "memory_limit_bytes": int(memory_limit) if memory_limit is not None else None,
        "memory_request_bytes": int(memory_request) if memory_request is not None else None,
        "memory_limit_utilization": round(memory_bytes / memory_limit, 6) if memory_limit else None,
        "restart_count": int(status.get("restartCount", 0)),
        "ready": bool(status.get("ready", False)),
        "state": next(iter(status.get("state") or {"waiting": {}})),
        "faults": faults,
    }


def cluster_usage(controller: Controller) -> Obj:
    with controller.store.lock:
        controller.sync()
        now = controller.store.clock.now()
        pods: list[Obj] = []
        for pod in controller.store.select("pods"):
            if not is_active(pod) or not pod["spec"].get("nodeName"):
                continue
            dep = controller.owning_deployment(pod)
            owner = next(iter(pod["metadata"].get("ownerReferences") or []), None)
            pods.append(
                {
                    "namespace": pod["metadata"]["namespace"],
                    "pod": pod["metadata"]["name"],
                    "uid": pod["metadata"]["uid"],
                    "node": pod["spec"].get("nodeName"),
                    "deployment": dep["metadata"]["name"] if dep else None,
                    "replicaset": owner["name"] if owner and owner.get("kind") == "ReplicaSet" else None,
                    "phase": pod.get("status", {}).get("phase"),
                    "ready": is_ready(pod),
                    "containers": [container_usage(controller, pod, c, now) for c in pod["spec"]["containers"]],
                }
            )
        return {"timestamp": rfc3339(now), "epoch_seconds": now, "pods": pods, "nodes": _node_usage(controller, pods)}


SYSTEM_CPU_CORES = 0.12  # kubelet, container runtime and system daemons
SYSTEM_MEMORY_BYTES = 900 * 2**20


def _node_usage(controller: Controller, pods: list[Obj]) -> list[Obj]:
    """Per node: the sum of its pods' usage plus a system share, against allocatable."""
    nodes: list[Obj] = []
    for node in controller.store.select("nodes"):
        name = node["metadata"]["name"]
        allocatable = node.get("status", {}).get("allocatable") or {}
        cpu_allocatable = parse_quantity(allocatable.get("cpu", "0"))
        memory_allocatable = parse_quantity(allocatable.get("memory", "0"))
        on_node = [p for p in pods if p["node"] == name]
        ready = node_is_ready(node)
        cpu = SYSTEM_CPU_CORES + sum(c["cpu_cores"] for p in on_node for c in p["containers"]) if ready else 0.0
        memory = SYSTEM_MEMORY_BYTES + sum(c["memory_bytes"] for p in on_node for c in p["containers"]) if ready else 0
        nodes.append(
            {
                "node": name,
                "ready": ready,
                "unschedulable": bool(node.get("spec", {}).get("unschedulable")),
                "pods": len(on_node),
                "cpu_cores": round(cpu, 6),
                "cpu_allocatable_cores": cpu_allocatable,
                "cpu_allocatable_utilization": round(cpu / cpu_allocatable, 6) if cpu_allocatable else None,
                "memory_bytes": int(memory),
                "memory_allocatable_bytes": int(memory_allocatable),
                "memory_allocatable_utilization": round(memory / memory_allocatable, 6) if memory_allocatable else None,
            }
        )
    return nodes
