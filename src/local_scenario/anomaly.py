"""The anomaly model in the scenario: trained by the local learning loop, scoring the live series.

Training runs the project's own pipeline, each stage as documented: healthy history generated
from the stand-in's metrics source (local_scenario.history, so the model learns the series it
will score) -> features pipeline on Beam's DirectRunner into DuckDB (dataflow.features_pipeline,
a subprocess) -> training pipeline on kfp.local (anomaly_detection_model.training_pipeline
run-local, a subprocess) -> a registered model artifact. A model already registered in the
output directory for the same workloads is reused.

Live scoring builds the model's per-workload 1-minute feature row from each sample round
(one round = one aligned cloud minute). Log counts are not sampled live and are 0.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HISTORY_MINUTES = 720
DEMO_MAX_FALSE_POSITIVE_RATE = 0.05
TRAIN_MINUTES = 540


class ModelUnavailable(RuntimeError):
    """The learning loop failed; the message says which stage and why."""


@dataclass(frozen=True)
class TrainedModel:
    version: str
    artifact_dir: Path
    reused: bool
    seconds: float


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _stage(name: str, args: list[str], cwd: Path, env: Mapping[str, str], log_dir: Path) -> None:
    log_path = log_dir / f"model-{name}.log"
    with log_path.open("wb") as log_file:
        completed = subprocess.run(
            [sys.executable, "-m", *args],
            cwd=cwd,
            env=dict(env),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            timeout=600,
            check=False,
            start_new_session=True,
        )
    if completed.returncode != 0:
        tail = log_path.read_text(errors="replace")[-1200:]
        raise ModelUnavailable(f"{name} failed (exit {completed.returncode}); see {log_path}:\n{tail}")


def _registered(registry: Path) -> tuple[str, Path] | None:
    from anomaly_detection_model.model_registry import LocalRegistry

    current = LocalRegistry(registry).current()
    if current is None:
        return None
    artifact = Path(current.artifact_uri)
    return (current.version, artifact) if (artifact / "metadata.json").is_file() else None


def train_or_reuse(
    model_dir: Path,
    fingerprint: list[str],
    write_history: Callable[[Path, float, int], dict[str, int]],
    schema_dir: Path,
    env: Mapping[str, str],
    progress: Callable[[str], object],
) -> TrainedModel:
    """The registered model in `model_dir`, training one through the local pipeline when there is none.

    `fingerprint` names the workloads the history covers; a model trained for others is not reused.
    """
    model_dir.mkdir(parents=True, exist_ok=True)
    registry = model_dir / "registry.json"
    fingerprint_path = model_dir / "workloads.json"
    found = _registered(registry)
    trained_for = json.loads(fingerprint_path.read_text(encoding="utf-8")) if fingerprint_path.is_file() else None
    if found is not None and trained_for == fingerprint:
        return TrainedModel(found[0], found[1], True, 0.0)
    registry.unlink(missing_ok=True)
    started = time.monotonic()
    history = model_dir / "history"
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    start = end - timedelta(minutes=HISTORY_MINUTES)
    progress(f"model 1/3: generating {HISTORY_MINUTES} minutes of healthy history from the metrics source")
    counts = write_history(history, start.timestamp(), HISTORY_MINUTES)
    progress(f"model 1/3: {counts['metric_points']} metric points from {counts['pods']} pods over the history")
    progress("model 2/3: features pipeline on Beam's DirectRunner -> DuckDB")
    duckdb_path = model_dir / "features.duckdb"
    duckdb_path.unlink(missing_ok=True)
    _stage(
        "features-pipeline",
        ["dataflow.features_pipeline", "--runner", "DirectRunner",
         "--log_input", str(history / "logs.jsonl"), "--metric_input", str(history / "metrics.jsonl"),
         "--duckdb_path", str(duckdb_path), "--schema_dir", str(schema_dir.resolve()),
         "--dead_letter_path", str(model_dir / "dead-letters")],
        model_dir, env, model_dir,
    )  # fmt: skip
    progress("model 3/3: training pipeline on kfp.local (extract -> train -> evaluate -> gate -> register)")
    _stage(
        "training-pipeline",
        ["anomaly_detection_model.training_pipeline", "run-local",
         "--store-uri", f"duckdb://{duckdb_path}",
         "--train-start", _rfc3339(start),
         "--train-end", _rfc3339(start + timedelta(minutes=TRAIN_MINUTES)),
         "--holdout-end", _rfc3339(end),
         "--model-root", str(model_dir / "models"),
         "--registry-uri", f"local:{registry}",
         "--pipeline-root", str(model_dir / "kfp"),
         # 12 h of history is less than one daily cycle: allow a slightly higher false-positive
         # ceiling than the cloud pipeline's 2 % (the demo policy only notifies on anomalies)
         "--max-false-positive-rate", str(DEMO_MAX_FALSE_POSITIVE_RATE)],
        model_dir, env, model_dir,
    )  # fmt: skip
    found = _registered(registry)
    fingerprint_path.write_text(json.dumps(fingerprint), encoding="utf-8")
    if found is None:
        raise ModelUnavailable(
            f"the training pipeline registered no model in {registry} (the gate may have refused it)"
        )
    return TrainedModel(found[0], found[1], False, time.monotonic() - started)


RestartCounts = dict[tuple[str, str], int]  # (pod uid, container) -> restart count


def workload_feature_rows(
    usage: Mapping[str, Any], previous: RestartCounts
) -> tuple[dict[tuple[str, str], dict[str, float]], RestartCounts]:
    """One sample round -> the model's feature row per (namespace, Deployment), and the restart counts seen.

    A round is one aligned cloud minute: utilisation mean and max over the workload's containers,
    restarts since the previous round, OOM-killed containers; log counts are not sampled (0).
    """
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    seen: RestartCounts = {}
    restarts: dict[tuple[str, str], int] = {}
    for pod in usage["pods"]:
        if not pod.get("deployment"):
            continue
        key = (pod["namespace"], pod["deployment"])
        for ctr in pod["containers"]:
            grouped.setdefault(key, []).append(ctr)
            count = int(ctr.get("restart_count") or 0)
            seen[(pod["uid"], ctr["name"])] = count
            restarts[key] = restarts.get(key, 0) + max(0, count - previous.get((pod["uid"], ctr["name"]), 0))
    rows: dict[tuple[str, str], dict[str, float]] = {}
    for key, containers in grouped.items():
        cpu = [float(c["cpu_limit_utilization"]) for c in containers if c.get("cpu_limit_utilization") is not None]
        mem = [
            float(c["memory_limit_utilization"]) for c in containers if c.get("memory_limit_utilization") is not None
        ]
        rows[key] = {
            "cpu_utilization_mean": sum(cpu) / len(cpu) if cpu else float("nan"),
            "cpu_utilization_max": max(cpu) if cpu else float("nan"),
            "memory_utilization_mean": sum(mem) / len(mem) if mem else float("nan"),
            "memory_utilization_max": max(mem) if mem else float("nan"),
            "restart_delta": float(restarts.get(key, 0)),
            "oom_killed_count": float(sum(1 for c in containers if "oom" in (c.get("faults") or []))),
            "error_log_count": 0.0,
            "warning_log_count": 0.0,
        }
    return rows, seen


class LiveScorer:
    """Scores each workload once per sample round with the trained model."""

    def __init__(self, artifact_dir: Path) -> None:
        from anomaly_detection_model.artifact import load_artifact

        self._model = load_artifact(artifact_dir).model
        self._restarts: RestartCounts = {}

    def score(self, usage: Mapping[str, Any]) -> dict[tuple[str, str], float]:
        import numpy as np

        rows, self._restarts = workload_feature_rows(usage, self._restarts)
        if not rows:
            return {}
        keys = sorted(rows)
        matrix = np.vstack([self._model.vector(rows[k]) for k in keys])
        scores = self._model.score_matrix(matrix)
        return {k: float(s) for k, s in zip(keys, scores, strict=True)}
