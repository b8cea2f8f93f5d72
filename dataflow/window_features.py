"""Folding observations of one workload and one window into a feature row.

Pure code: :class:`WindowAccumulator` is what the Beam ``CombineFn`` carries,
and :func:`feature_row` renders it with the ``features`` table's columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dataflow.observations import (
    CPU,
    ERROR_LOG,
    MEMORY,
    OOM_KILLED,
    RESTART_COUNT,
    RESTART_DELTA,
    WARNING_LOG,
    Observation,
    WorkloadKey,
)


@dataclass
class WindowAccumulator:
    cpu_sum: float = 0.0
    cpu_count: int = 0
    cpu_max: float | None = None
    memory_sum: float = 0.0
    memory_count: int = 0
    memory_max: float | None = None
    restart_delta: float = 0.0
    restart_counts: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)
    oom_killed: int = 0
    error_logs: int = 0
    warning_logs: int = 0
    pods: set[str] = field(default_factory=set)
    samples: int = 0
    # (timestamp, pod, container) of the latest observation that names a container
    last_container: tuple[float, str, str] | None = None

    def add(self, obs: Observation) -> WindowAccumulator:
        self.samples += 1
        if obs.pod_name:
            self.pods.add(obs.pod_name)
        if obs.pod_name and obs.container_name:
            candidate = (obs.timestamp, obs.pod_name, obs.container_name)
            if self.last_container is None or candidate > self.last_container:
                self.last_container = candidate
        if obs.measure == CPU:
            self.cpu_sum += obs.value
            self.cpu_count += 1
            self.cpu_max = obs.value if self.cpu_max is None else max(self.cpu_max, obs.value)
        elif obs.measure == MEMORY:
            self.memory_sum += obs.value
            self.memory_count += 1
            self.memory_max = obs.value if self.memory_max is None else max(self.memory_max, obs.value)
        elif obs.measure == RESTART_DELTA:
            self.restart_delta += max(obs.value, 0.0)
        elif obs.measure == RESTART_COUNT:
            series = (obs.pod_name, obs.container_name)
            low, high = self.restart_counts.get(series, (obs.value, obs.value))
            self.restart_counts[series] = (min(low, obs.value), max(high, obs.value))
        elif obs.measure == OOM_KILLED:
            self.oom_killed += int(obs.value)
        elif obs.measure == ERROR_LOG:
            self.error_logs += int(obs.value)
        elif obs.measure == WARNING_LOG:
            self.warning_logs += int(obs.value)
        return self

    def merge(self, other: WindowAccumulator) -> WindowAccumulator:
        self.cpu_sum += other.cpu_sum
        self.cpu_count += other.cpu_count
        if other.cpu_max is not None:
            self.cpu_max = other.cpu_max if self.cpu_max is None else max(self.cpu_max, other.cpu_max)
        self.memory_sum += other.memory_sum
        self.memory_count += other.memory_count
        if other.memory_max is not None:
            self.memory_max = other.memory_max if self.memory_max is None else max(self.memory_max, other.memory_max)
        self.restart_delta += other.restart_delta
        for series, (low, high) in other.restart_counts.items():
            mine = self.restart_counts.get(series, (low, high))
            self.restart_counts[series] = (min(mine[0], low), max(mine[1], high))
        self.oom_killed += other.oom_killed
        self.error_logs += other.error_logs
        self.warning_logs += other.warning_logs
        self.pods |= other.pods
        self.samples += other.samples
        if other.last_container is not None and (
            self.last_container is None or other.last_container > self.last_container
        ):
            self.last_container = other.last_container
        return self

    def restarts(self) -> int:
        cumulative = sum(high - low for low, high in self.restart_counts.values())
        return round(self.restart_delta + cumulative)


def iso_utc(epoch_seconds: float) -> str:
    return datetime.fromtimestamp(epoch_seconds, UTC).isoformat().replace("+00:00", "Z")


def feature_row(key: WorkloadKey, acc: WindowAccumulator, window_start: float, window_end: float) -> dict[str, Any]:
    project_id, location, cluster, namespace, controller_kind, controller_name = key
    _, pod, container = acc.last_container or (0.0, "", "")
    return {
        "window_start": iso_utc(window_start),
        "window_end": iso_utc(window_end),
        "project_id": project_id,
        "location": location or None,
        "cluster": cluster,
        "namespace": namespace,
        "controller_kind": controller_kind or None,
        "controller_name": controller_name,
        "cpu_utilization_mean": acc.cpu_sum / acc.cpu_count if acc.cpu_count else None,
        "cpu_utilization_max": acc.cpu_max,
        "memory_utilization_mean": acc.memory_sum / acc.memory_count if acc.memory_count else None,
        "memory_utilization_max": acc.memory_max,
        "restart_delta": acc.restarts(),
        "oom_killed_count": acc.oom_killed,
        "error_log_count": acc.error_logs,
        "warning_log_count": acc.warning_logs,
        "pod_count": len(acc.pods),
        "sample_count": acc.samples,
        "last_pod_name": pod or (min(acc.pods) if acc.pods else None),
        "last_container_name": container or None,
    }
