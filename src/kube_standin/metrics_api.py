"""metrics.k8s.io/v1beta1 (what metrics-server serves), computed from the simulated usage.

Lets `kubectl top pods|nodes` and clients of the resource metrics API work against the stand-in.
"""

from __future__ import annotations

from typing import Any

from kube_standin.controller import Controller
from kube_standin.errors import not_found
from kube_standin.selectors import labels_match, parse_label_selector
from kube_standin.usage import cluster_usage

Obj = dict[str, Any]
GROUP = "metrics.k8s.io"
VERSION = "v1beta1"
PREFIX = f"/apis/{GROUP}/{VERSION}"
WINDOW = "15s"
RESOURCES: tuple[Obj, ...] = (
    {"name": "pods", "singularName": "", "namespaced": True, "kind": "PodMetrics", "verbs": ["get", "list"]},
    {"name": "nodes", "singularName": "", "namespaced": False, "kind": "NodeMetrics", "verbs": ["get", "list"]},
)


def handles(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")


def _cpu(cores: float) -> str:
    return f"{round(cores * 1e9)}n"


def _memory(num_bytes: float) -> str:
    return f"{round(num_bytes / 1024)}Ki"


def serve(controller: Controller, path: str, label_selector: str | None) -> Obj | None:
    """The answer for a metrics API path, or None when the path is not one of them."""
    segments = [s for s in path[len(PREFIX) :].split("/") if s]
    if not segments:
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": f"{GROUP}/{VERSION}",
            "resources": list(RESOURCES),
        }
    namespace = None
    if len(segments) >= 3 and segments[0] == "namespaces" and segments[2] == "pods":
        namespace, segments = segments[1], segments[2:]
    if segments[0] not in ("pods", "nodes") or len(segments) > 2:
        return None
    kind, name = segments[0], segments[1] if len(segments) == 2 else None
    if kind == "pods" and name is not None and namespace is None:
        return None
    usage = cluster_usage(controller)
    selector = parse_label_selector(label_selector)
    with controller.store.lock:
        if kind == "nodes":
            items = [_node_metrics(controller, n, usage["timestamp"]) for n in usage["nodes"] if n["ready"]]
        else:
            items = [
                _pod_metrics(controller, p, usage["timestamp"])
                for p in usage["pods"]
                if namespace is None or p["namespace"] == namespace
            ]
    items = [i for i in items if labels_match(selector, i["metadata"].get("labels"))]
    list_kind = "NodeMetricsList" if kind == "nodes" else "PodMetricsList"
    if name is None:
        return {"kind": list_kind, "apiVersion": f"{GROUP}/{VERSION}", "metadata": {}, "items": items}
    for item in items:
        if item["metadata"]["name"] == name:
            return {"kind": list_kind[: -len("List")], "apiVersion": f"{GROUP}/{VERSION}", **item}
    raise not_found(kind, GROUP, name)


def _pod_metrics(controller: Controller, pod: Obj, timestamp: str) -> Obj:
    stored = controller.store.get("pods", pod["namespace"], pod["pod"]) or {"metadata": {}}
    return {
        "metadata": {
            "name": pod["pod"],
            "namespace": pod["namespace"],
            "creationTimestamp": timestamp,
            "labels": stored["metadata"].get("labels") or {},
        },
        "timestamp": timestamp,
        "window": WINDOW,
        "containers": [
            {"name": c["name"], "usage": {"cpu": _cpu(c["cpu_cores"]), "memory": _memory(c["memory_bytes"])}}
            for c in pod["containers"]
        ],
    }


def _node_metrics(controller: Controller, node: Obj, timestamp: str) -> Obj:
    stored = controller.store.get("nodes", "", node["node"]) or {"metadata": {}}
    return {
        "metadata": {
            "name": node["node"],
            "creationTimestamp": timestamp,
            "labels": stored["metadata"].get("labels") or {},
        },
        "timestamp": timestamp,
        "window": WINDOW,
        "usage": {"cpu": _cpu(node["cpu_cores"]), "memory": _memory(node["memory_bytes"])},
    }
