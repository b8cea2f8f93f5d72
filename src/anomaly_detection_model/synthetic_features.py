"""Healthy feature rows, generated directly at the ``features`` table level.

The same workload behaviour as ``dataflow.generate_history`` (daily CPU and
memory pattern, noise, rare restarts, Poisson error and warning logs), but as
rows of the ``features`` table, without going through logs, metrics and the
pipeline. Used for quick training runs, the kfp local run and benchmarks.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
import pandas as pd


def healthy_feature_rows(
    workloads: Sequence[str],
    start: datetime,
    minutes: int,
    seed: int = 1,
    replicas: int = 2,
    project_id: str = "demo-project",
    location: str = "europe-west1",
    cluster: str = "demo-cluster",
) -> pd.DataFrame:
    """``workloads`` are ``NAMESPACE/NAME`` strings; one row per workload and minute."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if minutes < 1:
        raise ValueError("minutes must be at least 1")
    rng = np.random.default_rng(seed)
    starts = pd.date_range(start, periods=minutes, freq="1min")
    minute_of_day = np.asarray(starts.hour * 60 + starts.minute, dtype=float)
    daily = 0.5 + 0.5 * np.sin(2 * np.pi * minute_of_day / 1440.0 - np.pi / 2)
    frames = []
    for index, workload in enumerate(workloads):
        namespace, _, name = workload.partition("/")
        if not namespace or not name:
            raise ValueError(f"workload {workload!r} must be NAMESPACE/NAME")
        cpu_base = 0.3 + 0.05 * (index % 3)
        cpu = cpu_base * (0.7 + 0.6 * daily)[:, None] + rng.normal(0, 0.03, (minutes, replicas))
        memory = 0.45 + 0.05 * daily[:, None] + rng.normal(0, 0.015, (minutes, replicas))
        cpu, memory = np.clip(cpu, 0, None), np.clip(memory, 0, 1)
        frames.append(
            pd.DataFrame(
                {
                    "window_start": starts,
                    "window_end": starts + timedelta(minutes=1),
                    "project_id": project_id,
                    "location": location,
                    "cluster": cluster,
                    "namespace": namespace,
                    "controller_kind": "Deployment",
                    "controller_name": name,
                    "cpu_utilization_mean": cpu.mean(axis=1),
                    "cpu_utilization_max": cpu.max(axis=1),
                    "memory_utilization_mean": memory.mean(axis=1),
                    "memory_utilization_max": memory.max(axis=1),
                    "restart_delta": (rng.random(minutes) < 0.001).astype(int),
                    "oom_killed_count": 0,
                    "error_log_count": rng.poisson(0.3 * replicas, minutes),
                    "warning_log_count": rng.poisson(0.5 * replicas, minutes),
                    "pod_count": replicas,
                    "sample_count": 3 * replicas,
                    "last_pod_name": f"{name}-6d9f7b5c8d-x2kq9",
                    "last_container_name": name,
                }
            )
        )
    return pd.concat(frames, ignore_index=True).sort_values(["window_start", "controller_name"], ignore_index=True)
