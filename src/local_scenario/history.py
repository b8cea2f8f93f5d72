"""Healthy history for the anomaly model, generated from the stand-in cluster's own metrics source.

The model must learn what healthy looks like for the series it will score, so the history is
sampled from the same per-container usage model the live scenario reads, at one point per
container per cloud minute. Pods are replaced every ten minutes of history (as rollouts and restarts
do), so the model sees many pods per workload, not only the ones running now. The records are Cloud Monitoring TimeSeries JSON
lines (one point each), the shape the features pipeline reads in production.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kube_standin.controller import is_active
from kube_standin.usage import container_usage
from local_scenario.cluster import StandinCluster
from local_scenario.incidents import ClusterIdentity

POD_LIFETIME_MINUTES = 10


def _rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _series(
    identity: ClusterIdentity,
    namespace: str,
    workload: str,
    pod: str,
    container: str,
    metric: str,
    labels: dict[str, str],
    kind: str,
    start: float,
    end: float,
    value: dict[str, Any],
) -> dict[str, Any]:
    return {
        "metric": {"type": metric, "labels": labels},
        "resource": {
            "type": "k8s_container",
            "labels": {
                "project_id": identity.project_id,
                "location": identity.location,
                "cluster_name": identity.cluster_name,
                "namespace_name": namespace,
                "pod_name": pod,
                "container_name": container,
            },
        },
        "metadata": {
            "systemLabels": {"top_level_controller_name": workload, "top_level_controller_type": "Deployment"}
        },
        "metricKind": kind,
        "valueType": "INT64" if "int64Value" in value else "DOUBLE",
        "points": [{"interval": {"startTime": _rfc3339(start), "endTime": _rfc3339(end)}, "value": value}],
    }


def workload_fingerprint(cluster: StandinCluster) -> list[str]:
    """What the history covers: every Deployment with its replicas and pod template."""
    with cluster.store.lock:
        return sorted(
            json.dumps(
                [d["metadata"]["namespace"], d["metadata"]["name"], d["spec"].get("replicas"), d["spec"]["template"]],
                sort_keys=True,
            )
            for d in cluster.store.select("deployments")
        )


def write_history(
    cluster: StandinCluster, identity: ClusterIdentity, out_dir: Path, start: float, minutes: int
) -> dict[str, int]:
    """metrics.jsonl (and an empty logs.jsonl: no logs are sampled) covering `minutes` from `start`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "logs.jsonl").write_text("", encoding="utf-8")
    points = 0
    with cluster.store.lock:
        pods = [p for p in cluster.store.select("pods") if is_active(p) and p["spec"].get("nodeName")]
        owners = {p["metadata"]["uid"]: cluster.controller.owning_deployment(p) for p in pods}
    with cluster.store.lock, (out_dir / "metrics.jsonl").open("w", encoding="utf-8") as handle:
        for minute in range(minutes):
            minute_start = start + minute * 60
            generation = minute // POD_LIFETIME_MINUTES
            for pod in pods:
                dep = owners.get(pod["metadata"]["uid"])
                if dep is None:
                    continue
                namespace, workload = pod["metadata"]["namespace"], dep["metadata"]["name"]
                past = _past_pod(cluster, pod, generation)
                at = minute_start + 30
                try:
                    for container in pod["spec"]["containers"]:
                        rows = _rows(cluster, identity, past, namespace, workload, container, minute_start, at)
                        for row in rows:
                            handle.write(json.dumps(row, separators=(",", ":")) + "\n")
                        points += len(rows)
                finally:
                    cluster.controller.runtime.pop(past["metadata"]["uid"], None)
    return {
        "metric_points": points,
        "pods": len(pods) * (1 + (minutes - 1) // POD_LIFETIME_MINUTES),
        "minutes": minutes,
    }


def _past_pod(cluster: StandinCluster, pod: dict[str, Any], generation: int) -> dict[str, Any]:
    """A pod of an earlier generation: same spec, its own identity (and so its own usage profile)."""
    uid = f"{pod['metadata']['uid']}-history-{generation}"
    past = {**pod, "metadata": {**pod["metadata"], "uid": uid, "name": f"{pod['metadata']['name']}-h{generation}"}}
    cluster.controller.runtime[uid] = cluster.controller.runtime[pod["metadata"]["uid"]]
    return past


def _rows(
    cluster: StandinCluster,
    identity: ClusterIdentity,
    pod: dict[str, Any],
    namespace: str,
    workload: str,
    container: dict[str, Any],
    minute_start: float,
    at: float,
) -> list[dict[str, Any]]:
    usage = container_usage(cluster.controller, pod, container, at)
    name, ctr = pod["metadata"]["name"], container["name"]
    rows = []
    if usage["cpu_limit_utilization"] is not None:
        rows.append(_series(identity, namespace, workload, name, ctr,
                            "kubernetes.io/container/cpu/limit_utilization", {}, "GAUGE", at, at,
                            {"doubleValue": usage["cpu_limit_utilization"]}))  # fmt: skip
    if usage["memory_limit_utilization"] is not None:
        rows.append(_series(identity, namespace, workload, name, ctr,
                            "kubernetes.io/container/memory/limit_utilization",
                            {"memory_type": "non-evictable"}, "GAUGE", at, at,
                            {"doubleValue": usage["memory_limit_utilization"]}))  # fmt: skip
    rows.append(_series(identity, namespace, workload, name, ctr,
                        "kubernetes.io/container/restart_count", {}, "DELTA",
                        minute_start, minute_start + 59, {"int64Value": "0"}))  # fmt: skip
    return rows
