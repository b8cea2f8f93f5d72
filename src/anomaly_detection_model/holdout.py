"""Evaluating a model on a held-back window, and the promotion gate.

History is healthy and unlabelled, so the held-back rows are the negatives and
copies of them with typical incidents injected are the positives:

* ``cpu_spike``: CPU pinned near the limit, some warnings
* ``memory_pressure``: memory at the limit with OOM kills and a restart
* ``crash_loop``: restarts, BackOff warnings, errors, CPU collapsing
* ``error_burst``: an order of magnitude more error logs

Figures: ROC AUC and average precision over all rows, the false-positive rate
of healthy rows at the model's threshold and the recall per incident kind.
:mod:`promotion_gate` compares them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from anomaly_detection_model.workload_model import WorkloadModel

INCIDENT_KINDS = ("cpu_spike", "memory_pressure", "crash_loop", "error_burst")


def inject_incidents(healthy: pd.DataFrame, seed: int = 11, per_kind: int = 50) -> pd.DataFrame:
    """Copies of random healthy rows turned into incidents; column ``incident`` names the kind."""
    if healthy.empty:
        raise ValueError("no held-back rows to inject incidents into")
    rng = np.random.default_rng(seed)
    frames = []
    for kind in INCIDENT_KINDS:
        rows = healthy.sample(n=per_kind, replace=len(healthy) < per_kind, random_state=int(rng.integers(1 << 31)))
        rows = rows.copy()
        n = len(rows)
        if kind == "cpu_spike":
            rows["cpu_utilization_mean"] = rng.uniform(0.9, 0.99, n)
            rows["cpu_utilization_max"] = np.minimum(rows["cpu_utilization_mean"] + rng.uniform(0, 0.05, n), 1.0)
            rows["warning_log_count"] = rows["warning_log_count"] + rng.integers(1, 4, n)
        elif kind == "memory_pressure":
            rows["memory_utilization_mean"] = rng.uniform(0.93, 0.99, n)
            rows["memory_utilization_max"] = 1.0
            rows["oom_killed_count"] = rng.integers(1, 3, n)
            rows["restart_delta"] = rows["oom_killed_count"]
        elif kind == "crash_loop":
            rows["restart_delta"] = rng.integers(1, 4, n)
            rows["warning_log_count"] = rows["warning_log_count"] + rng.integers(2, 6, n)
            rows["error_log_count"] = rows["error_log_count"] + rng.integers(5, 20, n)
            rows["cpu_utilization_mean"] = rows["cpu_utilization_mean"] * 0.3
            rows["cpu_utilization_max"] = rows["cpu_utilization_max"] * 0.5
        else:
            rows["error_log_count"] = rows["error_log_count"] + rng.integers(30, 120, n)
        rows["incident"] = kind
        frames.append(rows)
    return pd.concat(frames, ignore_index=True)


def evaluate(model: WorkloadModel, holdout: pd.DataFrame, seed: int = 11) -> dict[str, Any]:
    """Figures of ``model`` on the held-back healthy rows plus injected incidents."""
    incidents = inject_incidents(holdout, seed=seed)
    healthy_scores = model.score_frame(holdout)
    incident_scores = model.score_frame(incidents)
    labels = np.concatenate([np.zeros(len(healthy_scores)), np.ones(len(incident_scores))])
    scores = np.concatenate([healthy_scores, incident_scores])
    threshold = model.threshold
    recall = {
        kind: float(np.mean(incident_scores[(incidents["incident"] == kind).to_numpy()] > threshold))
        for kind in INCIDENT_KINDS
    }
    return {
        "holdout_rows": len(holdout),
        "incident_rows": len(incidents),
        "roc_auc": round(float(roc_auc_score(labels, scores)), 4),
        "average_precision": round(float(average_precision_score(labels, scores)), 4),
        "false_positive_rate": round(float(np.mean(healthy_scores > threshold)), 4),
        "recall": {k: round(v, 4) for k, v in recall.items()},
        "recall_overall": round(float(np.mean(incident_scores > threshold)), 4),
        "threshold": threshold,
    }
