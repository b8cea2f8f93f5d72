"""meta.k8s.io/v1 Table answers, so `kubectl get` prints the usual columns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kube_standin.clock import parse_rfc3339
from kube_standin.resources import ResourceType
from kube_standin.selectors import selector_to_string

Obj = dict[str, Any]
Column = tuple[str, str, int, Callable[[Obj, float], Any]]  # name, type, priority, cell


def human_duration(seconds: float) -> str:
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    if seconds < -1:
        return "<invalid>"
    total = int(max(0, seconds))
    minutes, hours, days = total // 60, total // 3600, total // 86400
    if total < 120:
        return f"{total}s"
    if minutes < 10:
        return f"{minutes}m{total % 60}s" if total % 60 else f"{minutes}m"
    if hours < 3:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h{minutes % 60}m" if minutes % 60 else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if days < 8:
        return f"{days}d{hours % 24}h" if hours % 24 else f"{days}d"
    if days < 730:
        return f"{days}d"
    years = days // 365
    return f"{years}y{days % 365}d" if years < 8 else f"{years}y"


def _age(obj: Obj, now: float) -> str:
    stamp = obj.get("metadata", {}).get("creationTimestamp")
    return human_duration(now - parse_rfc3339(stamp)) if stamp else "<unknown>"


def _pod_status(pod: Obj, _now: float) -> str:
    status = pod.get("status", {})
    reason = status.get("reason") or status.get("phase") or "Unknown"
    for container in status.get("containerStatuses") or []:
        state = container.get("state") or {}
        if state.get("waiting", {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif "terminated" in state and status.get("phase") not in ("Failed", "Succeeded"):
            reason = state["terminated"].get("reason") or f"ExitCode:{state['terminated'].get('exitCode')}"
    if pod.get("metadata", {}).get("deletionTimestamp"):
        reason = "Terminating"
    return str(reason)


def _pod_ready(pod: Obj, _now: float) -> str:
    statuses = pod.get("status", {}).get("containerStatuses") or []
    total = len(pod.get("spec", {}).get("containers") or [])
    return f"{sum(1 for c in statuses if c.get('ready'))}/{total}"


def _containers(template_owner: Obj) -> list[Obj]:
    return list(template_owner.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or [])


def _node_status(node: Obj, _now: float) -> str:
    ready = next((c for c in node.get("status", {}).get("conditions") or [] if c.get("type") == "Ready"), None)
    text = "Ready" if ready and ready.get("status") == "True" else ("NotReady" if ready else "Unknown")
    return text + (",SchedulingDisabled" if node.get("spec", {}).get("unschedulable") else "")


def _node_address(kind: str) -> Callable[[Obj, float], str]:
    def cell(node: Obj, _now: float) -> str:
        found = [a["address"] for a in node.get("status", {}).get("addresses") or [] if a.get("type") == kind]
        return found[0] if found else "<none>"

    return cell


def _job_status(job: Obj, _now: float) -> str:
    for condition in job.get("status", {}).get("conditions") or []:
        if condition.get("status") == "True" and condition.get("type") in ("Failed", "Complete", "Suspended"):
            return str(condition["type"])
    return "Running"


def _job_duration(job: Obj, now: float) -> str:
    status = job.get("status", {})
    start = status.get("startTime")
    if not start:
        return ""
    end = status.get("completionTime") or next(
        (c.get("lastTransitionTime") for c in status.get("conditions") or [] if c.get("type") == "Failed"), None
    )
    return human_duration((parse_rfc3339(end) if end else now) - parse_rfc3339(start))


def _status_int(key: str) -> Callable[[Obj, float], int]:
    return lambda obj, _now: int(obj.get("status", {}).get(key) or 0)


def _or_none(value: Any) -> str:
    return "N/A" if value is None else str(value)


COLUMNS: dict[str, list[Column]] = {
    "pods": [
        ("Ready", "string", 0, _pod_ready),
        ("Status", "string", 0, _pod_status),
        (
            "Restarts",
            "string",
            0,
            lambda p, _n: str(
                sum(int(c.get("restartCount", 0)) for c in p.get("status", {}).get("containerStatuses") or [])
            ),
        ),
        ("Age", "string", 0, _age),
        ("IP", "string", 1, lambda p, _n: p.get("status", {}).get("podIP") or "<none>"),
        ("Node", "string", 1, lambda p, _n: p.get("spec", {}).get("nodeName") or "<none>"),
    ],
    "deployments": [
        (
            "Ready",
            "string",
            0,
            lambda d, _n: f"{d.get('status', {}).get('readyReplicas', 0)}/{d['spec'].get('replicas', 1)}",
        ),
        ("Up-to-date", "integer", 0, _status_int("updatedReplicas")),
        ("Available", "integer", 0, _status_int("availableReplicas")),
        ("Age", "string", 0, _age),
        ("Containers", "string", 1, lambda d, _n: ",".join(c["name"] for c in _containers(d))),
        ("Images", "string", 1, lambda d, _n: ",".join(str(c.get("image")) for c in _containers(d))),
        ("Selector", "string", 1, lambda d, _n: selector_to_string(d["spec"].get("selector"))),
    ],
    "replicasets": [
        ("Desired", "integer", 0, lambda r, _n: int(r["spec"].get("replicas", 0))),
        ("Current", "integer", 0, _status_int("replicas")),
        ("Ready", "integer", 0, _status_int("readyReplicas")),
        ("Age", "string", 0, _age),
        ("Containers", "string", 1, lambda r, _n: ",".join(c["name"] for c in _containers(r))),
        ("Images", "string", 1, lambda r, _n: ",".join(str(c.get("image")) for c in _containers(r))),
        ("Selector", "string", 1, lambda r, _n: selector_to_string(r["spec"].get("selector"))),
    ],
    "nodes": [
        ("Status", "string", 0, _node_status),
        ("Roles", "string", 0, lambda _o, _n: "<none>"),
        ("Age", "string", 0, _age),
        ("Version", "string", 0, lambda o, _n: o.get("status", {}).get("nodeInfo", {}).get("kubeletVersion", "")),
        ("Internal-IP", "string", 1, _node_address("InternalIP")),
        ("External-IP", "string", 1, _node_address("ExternalIP")),
        ("OS-Image", "string", 1, lambda o, _n: o.get("status", {}).get("nodeInfo", {}).get("osImage", "")),
    ],
    "namespaces": [
        ("Status", "string", 0, lambda o, _n: o.get("status", {}).get("phase", "Active")),
        ("Age", "string", 0, _age),
    ],
    "events": [
        (
            "Last Seen",
            "string",
            0,
            lambda e, n: (
                human_duration(n - parse_rfc3339(e["lastTimestamp"])) if e.get("lastTimestamp") else "<unknown>"
            ),
        ),
        ("Type", "string", 0, lambda e, _n: e.get("type", "")),
        ("Reason", "string", 0, lambda e, _n: e.get("reason", "")),
        (
            "Object",
            "string",
            0,
            lambda e, _n: (
                f"{str(e.get('involvedObject', {}).get('kind', '')).lower()}/"
                f"{e.get('involvedObject', {}).get('name', '')}"
            ),
        ),
        ("Message", "string", 0, lambda e, _n: e.get("message", "")),
    ],
    "jobs": [
        ("Status", "string", 0, _job_status),
        (
            "Completions",
            "string",
            0,
            lambda j, _n: f"{j.get('status', {}).get('succeeded', 0)}/{j['spec'].get('completions', 1)}",
        ),
        ("Duration", "string", 0, _job_duration),
        ("Age", "string", 0, _age),
    ],
    "poddisruptionbudgets": [
        ("Min Available", "string", 0, lambda p, _n: _or_none(p["spec"].get("minAvailable"))),
        ("Max Unavailable", "string", 0, lambda p, _n: _or_none(p["spec"].get("maxUnavailable"))),
        ("Allowed Disruptions", "integer", 0, _status_int("disruptionsAllowed")),
        ("Age", "string", 0, _age),
    ],
}


def wants_table(accept: str | None) -> bool:
    return bool(accept) and "as=Table" in str(accept)


def as_table(rt: ResourceType, objects: list[Obj], now: float, resource_version: str) -> Obj:
    columns: list[Column] = (
        [] if rt.plural == "events" else [("Name", "string", 0, lambda o, _n: o["metadata"]["name"])]
    )
    columns += COLUMNS.get(rt.plural, [("Age", "string", 0, _age)])
    definitions = [
        {"name": name, "type": kind, "format": "name" if name == "Name" else "", "description": "", "priority": prio}
        for name, kind, prio, _ in columns
    ]
    rows = []
    for obj in objects:
        meta = obj["metadata"]
        partial = {
            key: meta[key]
            for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp", "labels", "annotations")
            if key in meta
        }
        rows.append(
            {
                "cells": [cell(obj, now) for _, _, _, cell in columns],
                "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": partial},
            }
        )
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": definitions,
        "rows": rows,
    }
