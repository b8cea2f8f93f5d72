"""Builders and API-server defaulting for the object kinds the stand-in serves."""

from __future__ import annotations

import json
import math
from typing import Any

from kube_standin.store import clone

Obj = dict[str, Any]

SAFE_ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
POD_TEMPLATE_HASH = "pod-template-hash"
# Deployment annotations never copied onto ReplicaSets (deployment/util.skipCopyAnnotation).
SKIP_COPY_ANNOTATIONS = {
    LAST_APPLIED,
    REVISION,
    REVISION_HISTORY,
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    "deprecated.deployment.rollback.to",
}


def safe_encode(text: str) -> str:
    return "".join(SAFE_ALPHANUMS[b % len(SAFE_ALPHANUMS)] for b in text.encode())


def fnv1a_32(data: bytes) -> int:
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def template_without_hash(template: Obj) -> Obj:
    clean = clone(template)
    labels = clean.get("metadata", {}).get("labels")
    if labels:
        labels.pop(POD_TEMPLATE_HASH, None)
    return clean


def pod_template_hash(template: Obj) -> str:
    canonical = json.dumps(template_without_hash(template), sort_keys=True, separators=(",", ":"))
    return safe_encode(str(fnv1a_32(canonical.encode())))


def templates_equal(a: Obj, b: Obj) -> bool:
    """Equal apart from the pod-template-hash label (without copying either template)."""
    if {k: v for k, v in a.items() if k != "metadata"} != {k: v for k, v in b.items() if k != "metadata"}:
        return False
    meta_a, meta_b = a.get("metadata") or {}, b.get("metadata") or {}
    if {k: v for k, v in meta_a.items() if k != "labels"} != {k: v for k, v in meta_b.items() if k != "labels"}:
        return False
    labels_a = {k: v for k, v in (meta_a.get("labels") or {}).items() if k != POD_TEMPLATE_HASH}
    labels_b = {k: v for k, v in (meta_b.get("labels") or {}).items() if k != POD_TEMPLATE_HASH}
    return labels_a == labels_b


def owner_reference(owner: Obj, controller: bool = True) -> Obj:
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def controller_uid(obj: Obj) -> str | None:
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid"))
    return None


def revision_of(obj: Obj) -> int:
    try:
        return int((obj["metadata"].get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def scaled_value(value: Any, total: int, round_up: bool) -> int:
    """Resolve an IntOrString such as 2 or '25%' against a total."""
    if isinstance(value, str) and value.endswith("%"):
        fraction = float(value[:-1]) / 100 * total
        return math.ceil(fraction) if round_up else math.floor(fraction)
    return int(value)


# ---------------------------------------------------------------- defaulting


def _map(parent: Any, key: str, default: Obj | None = None) -> Obj | None:
    """parent[key] when it is a map (set to `default` first when missing); None when it has another type,
    which validation then reports. Defaulting never fails on malformed input."""
    if not isinstance(parent, dict):
        return None
    if key not in parent and default is not None:
        parent[key] = default
    child = parent.get(key)
    return child if isinstance(child, dict) else None


def default_container(container: Obj) -> None:
    image = str(container.get("image", ""))
    tag = image.rsplit("/", 1)[-1]
    latest = "@" not in image and (":" not in tag or tag.endswith(":latest"))
    container.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
    container.setdefault("resources", {})
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    ports = container.get("ports")
    for port in ports if isinstance(ports, list) else []:
        if isinstance(port, dict):
            port.setdefault("protocol", "TCP")


def default_pod_spec(spec: Any) -> None:
    if not isinstance(spec, dict):
        return
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    containers = spec.get("containers")
    for container in containers if isinstance(containers, list) else []:
        if isinstance(container, dict):
            default_container(container)


def default_deployment(dep: Obj) -> None:
    spec = _map(dep, "spec", {})
    if spec is not None:
        spec.setdefault("replicas", 1)
        strategy = _map(spec, "strategy", {"type": "RollingUpdate"})
        if strategy is not None and strategy.get("type", "RollingUpdate") == "RollingUpdate":
            strategy["type"] = "RollingUpdate"
            rolling = _map(strategy, "rollingUpdate", {})
            if rolling is not None:
                rolling.setdefault("maxUnavailable", "25%")
                rolling.setdefault("maxSurge", "25%")
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        template = _map(spec, "template", {})
        _map(template, "metadata", {})
        default_pod_spec(_map(template, "spec", {}))
    dep.setdefault("status", {})


def default_job(job: Obj) -> None:
    spec = _map(job, "spec", {})
    if spec is not None:
        for key, value in (
            ("backoffLimit", 6),
            ("completions", 1),
            ("parallelism", 1),
            ("completionMode", "NonIndexed"),
            ("suspend", False),
        ):
            spec.setdefault(key, value)
        template = _map(spec, "template", {})
        _map(template, "metadata", {})
        template_spec = _map(template, "spec", {})
        if template_spec is not None:
            template_spec.setdefault("restartPolicy", "Never")
            default_pod_spec(template_spec)
    job.setdefault("status", {})


def pod_qos_class(spec: Obj) -> str:
    containers = spec.get("containers") or []
    requests_any = limits_all = False
    limits_all = bool(containers)
    for container in containers:
        resources = container.get("resources") or {}
        requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
        if requests or limits:
            requests_any = True
        if not all(
            limits.get(r) is not None and requests.get(r, limits.get(r)) == limits.get(r) for r in ("cpu", "memory")
        ):
            limits_all = False
    if limits_all:
        return "Guaranteed"
    return "Burstable" if requests_any else "BestEffort"
