"""The workload model: training time, scoring speed and held-back figures, against baselines.

Baselines measured in the same run on the same rows:
* the IsolationForest alone (the same fitted forest, without the robust tail term);
* a static rule like a classic alert: CPU > 0.9 or memory > 0.95 or any restart.
Prints one JSON object. Usage: python bench/pipeline_model.py [--days 2] [--workloads 4]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from anomaly_detection_model.features import feature_matrix
from anomaly_detection_model.holdout import INCIDENT_KINDS, evaluate, inject_incidents
from anomaly_detection_model.synthetic_features import healthy_feature_rows
from anomaly_detection_model.workload_model import WorkloadModel, calibrate, raw_anomaly, train


def static_rule(frame: pd.DataFrame) -> np.ndarray:
    fired = (
        (frame["cpu_utilization_max"] > 0.9) | (frame["memory_utilization_max"] > 0.95) | (frame["restart_delta"] > 0)
    )
    return fired.to_numpy(dtype=float)


def figures_of(scores_healthy: np.ndarray, scores_incident: np.ndarray, kinds: pd.Series, threshold: float) -> dict:
    labels = np.r_[np.zeros(len(scores_healthy)), np.ones(len(scores_incident))]
    scores = np.r_[scores_healthy, scores_incident]
    return {
        "roc_auc": round(float(roc_auc_score(labels, scores)), 4),
        "average_precision": round(float(average_precision_score(labels, scores)), 4),
        "false_positive_rate": round(float(np.mean(scores_healthy > threshold)), 4),
        "recall": {
            k: round(float(np.mean(scores_incident[(kinds == k).to_numpy()] > threshold)), 3) for k in INCIDENT_KINDS
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=2)
    parser.add_argument("--workloads", type=int, default=4)
    args = parser.parse_args()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    minutes = args.days * 1440 + 360
    frame = healthy_feature_rows([f"shop/svc{i}" for i in range(args.workloads)], start, minutes, seed=21)
    cut = pd.Timestamp(start + timedelta(days=args.days))
    training, holdout = frame[frame["window_start"] < cut], frame[frame["window_start"] >= cut]

    t0 = time.perf_counter()
    model = train(training)
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    model.score_frame(training)
    score_s = time.perf_counter() - t0

    incidents = inject_incidents(holdout, seed=5)
    # the same forest without the tail term, calibrated on its own training raw values
    raw = raw_anomaly(model.estimator, feature_matrix(training, model.state.impute), model.state.robust, 0.0)
    quantile = model.state.calibration.threshold_quantile
    forest_state = dataclasses.replace(model.state, tail_weight=0.0, calibration=calibrate(raw, quantile))
    forest_only = WorkloadModel(model.estimator, forest_state)
    print(
        json.dumps(
            {
                "training_rows": len(training),
                "holdout_rows": len(holdout),
                "train_s": round(train_s, 2),
                "score_rows_per_s": round(len(training) / score_s),
                "model": evaluate(model, holdout, seed=5),
                "baseline_forest_only": figures_of(
                    forest_only.score_frame(holdout), forest_only.score_frame(incidents), incidents["incident"], 0.8
                ),
                "baseline_static_rule": figures_of(
                    static_rule(holdout), static_rule(incidents), incidents["incident"], 0.5
                ),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
