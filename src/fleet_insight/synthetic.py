"""Synthetic fleet history with known answers, for tests and the local demo.

The default fleet has one workload per behaviour:

- ``shop/frontend`` steady: moderate usage, no restarts, never healed;
- ``shop/cart`` always OOMs: memory at the limit, OOM kills every 20 minutes, healed by
  restarts that never hold;
- ``shop/checkout`` flapping: crash-loop bursts every 90 minutes, restarted each time,
  comes back, sometimes escalated;
- ``batch/reporter`` oversized: uses a tenth of what it asks for;
- ``batch/encoder`` CPU-throttled: pinned at its CPU limit, scaled out now and then;
- node ``gke-demo-pool-1-a1b2`` went NotReady once and was drained.

``write_duckdb`` creates the tables from the JSON schemas and inserts the rows.
"""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fleet_insight.schema import TableNames, duckdb_create_table_sql, load_columns, quote_duckdb

BEHAVIOURS = ("steady", "always_oom", "flapping", "oversized", "cpu_throttled")


@dataclass(frozen=True)
class WorkloadSpec:
    namespace: str
    name: str
    behaviour: str
    cpu_request: str = "100m"
    cpu_limit: str = "500m"
    memory_request: str = "128Mi"
    memory_limit: str = "256Mi"
    container: str = "app"
    replicas: int = 3

    def __post_init__(self) -> None:
        if self.behaviour not in BEHAVIOURS:
            raise ValueError(f"behaviour must be one of {BEHAVIOURS}, got {self.behaviour!r}")


DEFAULT_FLEET: tuple[WorkloadSpec, ...] = (
    WorkloadSpec("shop", "frontend", "steady"),
    WorkloadSpec("shop", "cart", "always_oom"),
    WorkloadSpec("shop", "checkout", "flapping"),
    WorkloadSpec("batch", "reporter", "oversized", "1", "2", "1Gi", "2Gi", container="worker", replicas=1),
    WorkloadSpec("batch", "encoder", "cpu_throttled", "250m", "500m", "256Mi", "512Mi", container="ffmpeg"),
)
DEMO_NODES = ("gke-demo-pool-1-a1b2", "gke-demo-pool-1-c3d4")


@dataclass
class SyntheticHistory:
    start: datetime
    end: datetime
    features: list[dict[str, Any]] = field(default_factory=list)
    anomaly_scores: list[dict[str, Any]] = field(default_factory=list)
    healing_actions: list[dict[str, Any]] = field(default_factory=list)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    node_conditions: list[dict[str, Any]] = field(default_factory=list)


def _clip(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return max(low, min(high, value))


class _Builder:
    def __init__(self, start: datetime, project_id: str, location: str, cluster: str, seed: int) -> None:
        self.start = start
        self.rng = random.Random(seed)
        self.base = {"project_id": project_id, "location": location, "cluster": cluster}
        self.history = SyntheticHistory(start=start, end=start)
        self._incident = 0

    def feature(self, spec: WorkloadSpec, minute: int, **values: Any) -> None:
        window_start = self.start + timedelta(minutes=minute)
        row = {
            "window_start": window_start,
            "window_end": window_start + timedelta(minutes=1),
            **self.base,
            "namespace": spec.namespace,
            "controller_kind": "Deployment",
            "controller_name": spec.name,
            "error_log_count": 0,
            "warning_log_count": 0,
            "pod_count": spec.replicas,
            "sample_count": 4 * spec.replicas,
            "last_pod_name": f"{spec.name}-5d9c7b6f4-x{minute % 7}k2p",
            "last_container_name": spec.container,
            "restart_delta": 0,
            "oom_killed_count": 0,
        }
        row.update(values)
        self.history.features.append(row)

    def score(self, spec: WorkloadSpec, minute: int, value: float) -> None:
        window_end = self.start + timedelta(minutes=minute + 1)
        self.history.anomaly_scores.append(
            {
                "window_end": window_end,
                **self.base,
                "namespace": spec.namespace,
                "controller_kind": "Deployment",
                "controller_name": spec.name,
                "pod_name": f"{spec.name}-5d9c7b6f4-x{minute % 7}k2p",
                "container_name": spec.container,
                "score": round(_clip(value), 4),
                "threshold": 0.7,
                "is_anomaly": value > 0.7,
                "model_version": "synthetic-1",
                "top_features": json.dumps(["memory_utilization_max", "restart_delta"]),
                "scored_at": window_end + timedelta(seconds=5),
            }
        )

    def incident(
        self,
        at: datetime,
        kind: str,
        namespace: str,
        target_kind: str,
        target_name: str,
        action: str,
        steps: Sequence[tuple[str, float, bool | None]],
        pod: str | None = None,
    ) -> None:
        """``steps``: (outcome, seconds after ``at``, healed) rows of one incident."""
        self._incident += 1
        incident_id = f"0.synthetic{self._incident:05d}"
        for step_no, (outcome, after_s, healed) in enumerate(steps, start=1):
            recovered = outcome == "verified" and bool(healed)
            self.history.healing_actions.append(
                {
                    "decided_at": at + timedelta(seconds=after_s),
                    "incident_id": incident_id,
                    "incident_state": "closed" if outcome == "closed" else "open",
                    "incident_kind": kind,
                    "policy_name": f"gke-{kind.replace('_', '-')}",
                    **self.base,
                    "namespace": namespace or None,
                    "target_kind": target_kind,
                    "target_name": target_name,
                    "pod": pod,
                    "action": action,
                    "outcome": outcome,
                    "reason": f"{kind}_{outcome}",
                    "detail": f"{action} for {kind} on {target_name}: {outcome}",
                    "dry_run": False,
                    "step": step_no,
                    "action_duration_ms": 120.0 + self.rng.random() * 200 if outcome == "acted" else None,
                    "time_to_recover_s": after_s if recovered else None,
                    "healed": healed,
                    "evidence_uri": None,
                    "actor": "healer",
                    "healer_instance": "healer-synthetic",
                }
            )


def generate_history(
    start: datetime,
    hours: float = 24.0,
    fleet: tuple[WorkloadSpec, ...] = DEFAULT_FLEET,
    seed: int = 7,
    project_id: str = "demo-project",
    location: str = "europe-west1",
    cluster: str = "demo-cluster",
) -> SyntheticHistory:
    """Per-minute features, anomaly scores and healing actions from ``start`` for ``hours``."""
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if not 0 < hours <= 24 * 31:
        raise ValueError(f"hours must be within (0, 744], got {hours}")
    b = _Builder(start.astimezone(UTC), project_id, location, cluster, seed)
    minutes = int(hours * 60)
    rng = b.rng
    for spec in fleet:
        for m in range(minutes):
            _minute(b, spec, m, rng)
        _incidents_for(b, spec, minutes)
        b.history.deployments.append(_deployment(spec))
    node = DEMO_NODES[0]
    if minutes > 5 * 60:
        b.incident(
            b.start + timedelta(hours=5),
            "node_not_ready",
            "",
            "Node",
            node,
            "drain_node",
            [("acted", 0, None), ("verified", 240, True), ("closed", 600, True)],
        )
    since = (b.start + timedelta(hours=hours) - timedelta(minutes=30)).isoformat()
    for name in DEMO_NODES:
        for condition in ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure"):
            status = "True" if condition == "Ready" else "False"
            if name == node and condition == "DiskPressure":
                status = "True"
            b.history.node_conditions.append({"node": name, "condition": condition, "status": status, "since": since})
    b.history.end = b.start + timedelta(minutes=minutes)
    return b.history


def _minute(b: _Builder, spec: WorkloadSpec, m: int, rng: random.Random) -> None:
    noise = rng.gauss
    if spec.behaviour == "steady":
        cpu = _clip(0.30 + noise(0, 0.04))
        mem = _clip(0.45 + noise(0, 0.02))
        b.feature(spec, m, **_usage(cpu, cpu + 0.1, mem, mem + 0.05))
        b.score(spec, m, 0.15 + rng.random() * 0.2)
    elif spec.behaviour == "always_oom":
        oom = 1 if m % 20 == 19 else 0
        mem = _clip(0.85 + noise(0, 0.03))
        b.feature(
            spec,
            m,
            **_usage(_clip(0.35 + noise(0, 0.05)), 0.6, mem, 1.0 if oom else _clip(0.96 + noise(0, 0.01))),
            restart_delta=oom,
            oom_killed_count=oom,
            warning_log_count=2 * oom,
        )
        b.score(spec, m, 0.85 if oom else 0.3 + rng.random() * 0.3)
    elif spec.behaviour == "flapping":
        bursting = m % 90 < 15
        b.feature(
            spec,
            m,
            **_usage(_clip(0.2 + noise(0, 0.05)), 0.5, _clip(0.4 + noise(0, 0.03)), 0.5),
            restart_delta=rng.choice((1, 2)) if bursting else 0,
            pod_count=rng.choice((1, 2)) if bursting else spec.replicas,
            error_log_count=rng.randint(5, 20) if bursting else 0,
        )
        b.score(spec, m, 0.9 if bursting else 0.2 + rng.random() * 0.2)
    elif spec.behaviour == "oversized":
        cpu = _clip(0.05 + noise(0, 0.01))
        mem = _clip(0.10 + noise(0, 0.01))
        b.feature(spec, m, **_usage(cpu, cpu + 0.02, mem, mem + 0.01))
        b.score(spec, m, 0.1 + rng.random() * 0.1)
    else:  # cpu_throttled
        b.feature(spec, m, **_usage(_clip(0.88 + noise(0, 0.03)), _clip(0.99 + noise(0, 0.005)), 0.5, 0.55))
        b.score(spec, m, 0.4 + rng.random() * 0.2)


def _usage(cpu_mean: float, cpu_max: float, mem_mean: float, mem_max: float) -> dict[str, float]:
    return {
        "cpu_utilization_mean": round(cpu_mean, 4),
        "cpu_utilization_max": round(max(cpu_mean, _clip(cpu_max)), 4),
        "memory_utilization_mean": round(mem_mean, 4),
        "memory_utilization_max": round(max(mem_mean, _clip(mem_max)), 4),
    }


def _incidents_for(b: _Builder, spec: WorkloadSpec, minutes: int) -> None:
    ns, name = spec.namespace, spec.name
    if spec.behaviour == "always_oom":
        for m in range(19, minutes, 180):
            pod = f"{name}-5d9c7b6f4-x{m % 7}k2p"
            b.incident(
                b.start + timedelta(minutes=m),
                "oom_killed",
                ns,
                "Pod",
                pod,
                "delete_pod",
                [("acted", 0, None), ("verified", 45, True), ("closed", 300, True)],
                pod=pod,
            )
    elif spec.behaviour == "flapping":
        for count, m in enumerate(range(2, minutes, 90)):
            at = b.start + timedelta(minutes=m)
            if count % 4 == 3:
                steps = [("acted", 0, None), ("failed", 120, False), ("escalated", 130, False)]
                b.incident(at, "crash_loop", ns, "Deployment", name, "rollback", steps)
            else:
                steps = [("acted", 0, None), ("verified", 280 + 20 * (count % 3), True)]
                b.incident(at, "crash_loop", ns, "Deployment", name, "restart", steps)
    elif spec.behaviour == "cpu_throttled":
        for m in range(60, minutes, 480):
            steps = [("acted", 0, None), ("verified", 150, True), ("closed", 900, True)]
            b.incident(b.start + timedelta(minutes=m), "high_cpu", ns, "Deployment", name, "scale_out", steps)


def _deployment(spec: WorkloadSpec) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": spec.name, "namespace": spec.namespace, "labels": {"app": spec.name}},
        "spec": {
            "replicas": spec.replicas,
            "selector": {"matchLabels": {"app": spec.name}},
            "template": {
                "metadata": {"labels": {"app": spec.name}},
                "spec": {
                    "containers": [
                        {
                            "name": spec.container,
                            "image": f"registry.example/{spec.name}:1.0",
                            "resources": {
                                "requests": {"cpu": spec.cpu_request, "memory": spec.memory_request},
                                "limits": {"cpu": spec.cpu_limit, "memory": spec.memory_limit},
                            },
                        }
                    ]
                },
            },
        },
    }


def write_duckdb(
    path: str | Path,
    history: SyntheticHistory,
    tables: TableNames | None = None,
    schema_dir: Path | None = None,
) -> None:
    """Create the three tables (from the JSON schemas) in the DuckDB file and append the rows."""
    import duckdb
    import pandas as pd

    names = tables or TableNames()
    with duckdb.connect(str(path)) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        for logical, physical in names.as_dict().items():
            conn.execute(duckdb_create_table_sql(logical, physical, schema_dir))
            rows = getattr(history, logical)
            if not rows:
                continue
            cols = [c.name for c in load_columns(logical, schema_dir)]
            frame = pd.DataFrame.from_records(rows, columns=cols)
            conn.register("incoming", frame)
            col_list = ", ".join(quote_duckdb(c) for c in cols)
            conn.execute(f"INSERT INTO {quote_duckdb(physical)} ({col_list}) SELECT {col_list} FROM incoming")
            conn.unregister("incoming")


def write_specs(directory: str | Path, history: SyntheticHistory) -> tuple[Path, Path]:
    """deployments.json (a List as ``kubectl get deployments -o json`` prints) and node-conditions.json."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    deployments = out / "deployments.json"
    deployments.write_text(
        json.dumps({"apiVersion": "v1", "kind": "List", "items": history.deployments}, indent=2), encoding="utf-8"
    )
    nodes = out / "node-conditions.json"
    nodes.write_text(json.dumps(history.node_conditions, indent=2), encoding="utf-8")
    return deployments, nodes


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m fleet_insight.synthetic --duckdb FILE [--hours H] [--specs-dir DIR]``."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m fleet_insight.synthetic", description="Write synthetic fleet history with known answers."
    )
    parser.add_argument("--duckdb", required=True, metavar="FILE", help="DuckDB file to create or append to")
    parser.add_argument("--hours", type=float, default=24.0, help="hours of history (default 24)")
    parser.add_argument("--end", help="ISO 8601 end of the history (default: now, whole minutes)")
    parser.add_argument("--specs-dir", metavar="DIR", help="also write deployments.json and node-conditions.json")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    try:
        end = datetime.fromisoformat(args.end) if args.end else datetime.now(UTC)
        end = (end if end.tzinfo else end.replace(tzinfo=UTC)).replace(second=0, microsecond=0)
        history = generate_history(end - timedelta(hours=args.hours), hours=args.hours, seed=args.seed)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    write_duckdb(args.duckdb, history)
    if args.specs_dir:
        write_specs(args.specs_dir, history)
    print(f"wrote {len(history.features)} feature rows, {len(history.healing_actions)} healing rows to {args.duckdb}")
    print(f"time range: {history.start.isoformat()} to {history.end.isoformat()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
