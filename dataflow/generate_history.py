"""Realistic workload history as LogEntry and TimeSeries JSON lines.

Per workload and pod, every minute: CPU and memory limit utilisation with a
daily pattern and noise, a restart_count DELTA point (occasionally 1), error
and warning container logs (Poisson), a few info logs, and now and then a
BackOff event. Optional incidents distort a stretch of minutes:
``cpu_spike``, ``memory_leak`` (ending in OOM kills), ``crash_loop`` and
``error_burst``. The records have the same shape as real ones (see
tests/data/logging and tests/data/monitoring), so the features pipeline reads
them exactly like production input.

    python -m dataflow.generate_history --out DIR --minutes 1440 \
        --workloads shop/frontend,shop/cart --incident shop/cart:crash_loop:1300:15
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from anomaly_detection_model.score_metric import rfc3339

INCIDENT_KINDS = ("cpu_spike", "memory_leak", "crash_loop", "error_burst")
_SAFE = "bcdfghjklmnpqrstvwxz2456789"


@dataclass(frozen=True)
class Cluster:
    project_id: str = "demo-project"
    location: str = "europe-west1"
    cluster_name: str = "demo-cluster"


@dataclass(frozen=True)
class Workload:
    namespace: str
    name: str
    replicas: int = 2
    cpu_base: float = 0.35
    memory_base: float = 0.45
    error_rate: float = 0.3  # error log lines per pod-minute
    warning_rate: float = 0.5

    @property
    def container(self) -> str:
        return self.name


@dataclass(frozen=True)
class Incident:
    namespace: str
    name: str
    kind: str
    start_minute: int
    minutes: int

    def active(self, workload: Workload, minute: int) -> float:
        """Progress in (0, 1] while the incident runs for this workload, else 0."""
        if (workload.namespace, workload.name) != (self.namespace, self.name):
            return 0.0
        if not self.start_minute <= minute < self.start_minute + self.minutes:
            return 0.0
        return (minute - self.start_minute + 1) / self.minutes


def parse_workloads(text: str) -> list[Workload]:
    workloads = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        namespace, sep, name = item.partition("/")
        if not sep or not namespace or not name:
            raise ValueError(f"workload {item!r} must be NAMESPACE/NAME")
        workloads.append(Workload(namespace=namespace, name=name))
    if not workloads:
        raise ValueError("give at least one workload")
    return workloads


def parse_incident(text: str) -> Incident:
    try:
        target, kind, start, minutes = text.split(":")
        namespace, name = target.split("/")
        incident = Incident(namespace, name, kind, int(start), int(minutes))
    except ValueError as exc:
        raise ValueError(f"incident {text!r} must be NAMESPACE/NAME:KIND:START_MINUTE:MINUTES") from exc
    if incident.kind not in INCIDENT_KINDS:
        raise ValueError(f"incident kind {incident.kind!r} is not one of {INCIDENT_KINDS}")
    if incident.minutes < 1 or incident.start_minute < 0:
        raise ValueError(f"incident {text!r} needs START_MINUTE >= 0 and MINUTES >= 1")
    return incident


def _suffix(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(_SAFE) for _ in range(n))


def _container_resource(cluster: Cluster, workload: Workload, pod: str) -> dict[str, Any]:
    return {
        "type": "k8s_container",
        "labels": {
            "project_id": cluster.project_id,
            "location": cluster.location,
            "cluster_name": cluster.cluster_name,
            "namespace_name": workload.namespace,
            "pod_name": pod,
            "container_name": workload.container,
        },
    }


def _series(
    cluster: Cluster,
    workload: Workload,
    pod: str,
    metric: str,
    labels: dict[str, str],
    kind: str,
    point: dict[str, Any],
) -> dict[str, Any]:
    value_type = "INT64" if "int64Value" in point["value"] else "DOUBLE"
    return {
        "metric": {"type": metric, "labels": labels},
        "resource": _container_resource(cluster, workload, pod),
        "metadata": {
            "systemLabels": {
                "top_level_controller_name": workload.name,
                "top_level_controller_type": "Deployment",
            }
        },
        "metricKind": kind,
        "valueType": value_type,
        "points": [point],
    }


def _container_log(
    cluster: Cluster,
    workload: Workload,
    pod: str,
    when: datetime,
    severity: str,
    text: str,
    rng: random.Random,
) -> dict[str, Any]:
    stream = "stderr" if severity in ("ERROR", "WARNING") else "stdout"
    return {
        "insertId": _suffix(rng, 16),
        "textPayload": text,
        "resource": _container_resource(cluster, workload, pod),
        "timestamp": rfc3339(when),
        "severity": severity,
        "labels": {
            "compute.googleapis.com/resource_name": f"gke-{cluster.cluster_name}-pool-{_suffix(rng, 8)}",
            "k8s-pod/app": workload.name,
            "k8s-pod/pod-template-hash": pod.split("-")[-2],
        },
        "logName": f"projects/{cluster.project_id}/logs/{stream}",
        "receiveTimestamp": rfc3339(when + timedelta(seconds=1.5)),
    }


def _event(
    cluster: Cluster,
    workload: Workload,
    pod: str,
    when: datetime,
    reason: str,
    message: str,
    rng: random.Random,
) -> dict[str, Any]:
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "insertId": _suffix(rng, 12),
        "jsonPayload": {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{pod}.{_suffix(rng, 16)}", "namespace": workload.namespace},
            "involvedObject": {
                "apiVersion": "v1",
                "kind": "Pod",
                "name": pod,
                "namespace": workload.namespace,
                "fieldPath": f"spec.containers{{{workload.container}}}",
            },
            "reason": reason,
            "message": message,
            "source": {"component": "kubelet", "host": f"gke-{cluster.cluster_name}-default-pool-node"},
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
            "type": "Warning",
            "reportingComponent": "kubelet",
        },
        "resource": {
            "type": "k8s_pod",
            "labels": {
                "project_id": cluster.project_id,
                "location": cluster.location,
                "cluster_name": cluster.cluster_name,
                "namespace_name": workload.namespace,
                "pod_name": pod,
            },
        },
        "timestamp": rfc3339(when),
        "severity": "WARNING",
        "logName": f"projects/{cluster.project_id}/logs/events",
        "receiveTimestamp": rfc3339(when + timedelta(seconds=1)),
    }


def _point(start: str, end: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"interval": {"startTime": start, "endTime": end}, "value": value}


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth; lam stays small here
    limit, k, product = math.exp(-lam), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def generate(
    workloads: Sequence[Workload],
    start: datetime,
    minutes: int,
    seed: int = 1,
    incidents: Sequence[Incident] = (),
    cluster: Cluster | None = None,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Yields ("logs" | "metrics", record) in time order, minute by minute."""
    if minutes < 1:
        raise ValueError("minutes must be at least 1")
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    cluster = cluster or Cluster()
    rng = random.Random(seed)
    pods = {w: [f"{w.name}-{_suffix(rng, 10)}-{_suffix(rng, 5)}" for _ in range(w.replicas)] for w in workloads}
    leak: dict[str, float] = {}
    for minute in range(minutes):
        minute_start = start + timedelta(minutes=minute)
        day_phase = 2 * math.pi * ((minute_start.hour * 60 + minute_start.minute) / 1440.0)
        daily = 0.5 + 0.5 * math.sin(day_phase - math.pi / 2)  # low at midnight, high at noon
        for w in workloads:
            effects = {i.kind: i.active(w, minute) for i in incidents if i.active(w, minute) > 0}
            for pod in pods[w]:
                when = minute_start + timedelta(seconds=20 + rng.uniform(0, 20))
                cpu = w.cpu_base * (0.7 + 0.6 * daily) + rng.gauss(0, 0.03)
                memory = w.memory_base + 0.05 * daily + rng.gauss(0, 0.015)
                restarts = 1 if rng.random() < 0.0005 else 0
                errors = _poisson(rng, w.error_rate)
                warnings = _poisson(rng, w.warning_rate)
                events: list[tuple[str, str]] = []
                if "cpu_spike" in effects:
                    cpu = 0.93 + rng.uniform(0, 0.06)
                    warnings += 2
                if "memory_leak" in effects:
                    leak[pod] = min(1.0, memory + 0.6 * effects["memory_leak"])
                    memory = leak[pod]
                    if memory >= 0.97:  # at the limit: the kernel kills it
                        events.append(("OOMKilling", f"Memory cgroup out of memory: Killed process in {pod}"))
                        restarts += 1
                if "crash_loop" in effects:
                    restarts += 1
                    errors += 6
                    cpu *= 0.3
                    events.append(("BackOff", f"Back-off restarting failed container {w.container} in pod {pod}"))
                if "error_burst" in effects:
                    errors += 40
                point_time = rfc3339(when)
                yield (
                    "metrics",
                    _series(
                        cluster,
                        w,
                        pod,
                        "kubernetes.io/container/cpu/limit_utilization",
                        {},
                        "GAUGE",
                        _point(point_time, point_time, {"doubleValue": round(max(cpu, 0.0), 5)}),
                    ),
                )
                yield (
                    "metrics",
                    _series(
                        cluster,
                        w,
                        pod,
                        "kubernetes.io/container/memory/limit_utilization",
                        {"memory_type": "non-evictable"},
                        "GAUGE",
                        _point(point_time, point_time, {"doubleValue": round(min(max(memory, 0.0), 1.0), 5)}),
                    ),
                )
                delta_end = rfc3339(minute_start + timedelta(seconds=59))
                yield (
                    "metrics",
                    _series(
                        cluster,
                        w,
                        pod,
                        "kubernetes.io/container/restart_count",
                        {},
                        "DELTA",
                        _point(rfc3339(minute_start), delta_end, {"int64Value": str(restarts)}),
                    ),
                )
                for i in range(errors):
                    at = minute_start + timedelta(seconds=rng.uniform(0, 59.9))
                    yield (
                        "logs",
                        _container_log(cluster, w, pod, at, "ERROR", f"request failed: upstream timeout #{i}", rng),
                    )
                for i in range(warnings):
                    at = minute_start + timedelta(seconds=rng.uniform(0, 59.9))
                    yield "logs", _container_log(cluster, w, pod, at, "WARNING", f"slow request #{i}", rng)
                if rng.random() < 0.2:
                    yield "logs", _container_log(cluster, w, pod, when, "INFO", "GET /healthz 200", rng)
                if rng.random() < 0.001:
                    events.append(("BackOff", f"Back-off restarting failed container {w.container} in pod {pod}"))
                for reason, message in events:
                    yield "logs", _event(cluster, w, pod, when, reason, message, rng)


def write_history(
    out_dir: Path,
    workloads: Sequence[Workload],
    start: datetime,
    minutes: int,
    seed: int = 1,
    incidents: Sequence[Incident] = (),
) -> dict[str, int]:
    """Writes ``logs.jsonl`` and ``metrics.jsonl`` into ``out_dir``; returns line counts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {"logs": 0, "metrics": 0}
    with (
        (out_dir / "logs.jsonl").open("w", encoding="utf-8") as logs,
        (out_dir / "metrics.jsonl").open("w", encoding="utf-8") as metrics,
    ):
        files = {"logs": logs, "metrics": metrics}
        for kind, record in generate(workloads, start, minutes, seed, incidents):
            files[kind].write(json.dumps(record, separators=(",", ":")) + "\n")
            counts[kind] += 1
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path, help="output directory (logs.jsonl, metrics.jsonl)")
    parser.add_argument("--minutes", type=int, default=1440, help="minutes of history (default one day)")
    parser.add_argument(
        "--workloads", default="shop/frontend,shop/cart,shop/checkout", help="comma-separated NAMESPACE/NAME"
    )
    parser.add_argument(
        "--start",
        default="",
        help="RFC 3339 start time (default: the whole minutes ending at the current minute)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--incident",
        action="append",
        default=[],
        help=f"NAMESPACE/NAME:KIND:START_MINUTE:MINUTES, KIND in {', '.join(INCIDENT_KINDS)} (repeatable)",
    )
    args = parser.parse_args(argv)
    try:
        workloads = parse_workloads(args.workloads)
        incidents = [parse_incident(text) for text in args.incident]
        if args.start:
            start = datetime.fromisoformat(args.start.replace("Z", "+00:00"))
            if start.tzinfo is None:
                raise ValueError("--start needs a time zone (e.g. 2026-01-01T00:00:00Z)")
        else:
            now = datetime.now(UTC).replace(second=0, microsecond=0)
            start = now - timedelta(minutes=args.minutes)
        if args.minutes < 1:
            raise ValueError("--minutes must be at least 1")
    except ValueError as exc:
        parser.error(str(exc))
    counts = write_history(args.out, workloads, start, args.minutes, args.seed, incidents)
    print(json.dumps({"out": str(args.out), "start": rfc3339(start), **counts}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
