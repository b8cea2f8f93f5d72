from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import yaml

from anomaly_detection_model.features import FEATURE_COLUMNS, feature_matrix, row_vector
from anomaly_detection_model.holdout import INCIDENT_KINDS, evaluate, inject_incidents
from anomaly_detection_model.score_metric import METRIC_TYPE
from anomaly_detection_model.synthetic_features import healthy_feature_rows
from anomaly_detection_model.table_schema import default_schema_dir
from anomaly_detection_model.workload_model import (
    ALERT_LEVEL,
    TrainingParams,
    WorkloadModel,
    explain,
    score_with,
    train,
)

WORKLOADS = ["shop/frontend", "shop/cart", "shop/checkout"]


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return healthy_feature_rows(WORKLOADS, datetime(2026, 1, 1, tzinfo=UTC), 1440 + 180, seed=5)


@pytest.fixture(scope="module")
def split(history: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    cut = pd.Timestamp(datetime(2026, 1, 2, tzinfo=UTC))
    return history[history["window_start"] < cut], history[history["window_start"] >= cut]


@pytest.fixture(scope="module")
def model(split) -> WorkloadModel:
    return train(split[0], TrainingParams(n_estimators=100))


def test_scores_lie_in_0_1_and_healthy_held_back_windows_stay_below_the_alert_level(model, split) -> None:
    scores = model.score_frame(split[1])
    assert scores.min() >= 0.0 and scores.max() <= 1.0
    assert np.mean(scores > ALERT_LEVEL) < 0.02
    assert model.threshold == ALERT_LEVEL


@pytest.mark.parametrize("kind", INCIDENT_KINDS)
def test_each_incident_kind_scores_above_the_alert_level(model, split, kind: str) -> None:
    incidents = inject_incidents(split[1], seed=3)
    scores = model.score_frame(incidents[incidents["incident"] == kind])
    assert np.mean(scores > ALERT_LEVEL) >= 0.9


def test_evaluation_figures_separate_healthy_from_incidents(model, split) -> None:
    figures = evaluate(model, split[1])
    assert figures["roc_auc"] > 0.95
    assert figures["false_positive_rate"] < 0.02
    assert set(figures["recall"]) == set(INCIDENT_KINDS)


def test_alert_level_is_the_threshold_of_the_anomaly_alert_rule() -> None:
    rules = yaml.safe_load((default_schema_dir().parents[1] / "config" / "alert_rules.yaml").read_text())
    [rule] = [r for r in rules["policies"] if r["metric_type"] == METRIC_TYPE]
    assert (rule["threshold"], rule["comparison"], rule["resource_type"]) == (
        ALERT_LEVEL,
        "COMPARISON_GT",
        "k8s_container",
    )


def test_calibration_is_monotone_in_the_raw_value(model) -> None:
    raw = np.linspace(-1, 2, 400)
    scores = model.state.calibration.score(raw)
    assert np.all(np.diff(scores) >= 0)
    assert scores[0] == 0.0 and scores[-1] <= 1.0


def test_inference_fn_shape_matches_the_model(model, split) -> None:
    rows = split[1].head(5)
    batch = [row_vector(r, model.state.impute) for r in rows.to_dict("records")]
    assert score_with(model.estimator, batch, model.state) == pytest.approx(list(model.score_frame(rows)))
    assert score_with(model.estimator, [], model.state) == []


def test_missing_utilisation_is_imputed_from_training(model) -> None:
    frame = pd.DataFrame([{c: None for c in FEATURE_COLUMNS}])
    matrix = feature_matrix(frame, model.state.impute)
    assert matrix[0, 0] == pytest.approx(model.state.impute["cpu_utilization_mean"])
    assert matrix[0, 4:].tolist() == [0.0, 0.0, 0.0, 0.0]


def test_explanations_name_the_deviating_feature(model, split) -> None:
    row = split[1].iloc[0].to_dict() | {"error_log_count": 90}
    top = explain(model.vector(row), model.state.robust)
    assert top[0]["feature"] == "error_log_count"
    assert top[0]["value"] == pytest.approx(90)
    assert top[0]["z"] > 3


def test_training_rejects_too_few_rows_and_bad_quantiles(split) -> None:
    with pytest.raises(ValueError, match="at least 50"):
        train(split[0].head(10))
    with pytest.raises(ValueError, match="threshold_quantile"):
        train(split[0], TrainingParams(threshold_quantile=1.0))


def test_synthetic_rows_follow_a_daily_pattern(history) -> None:
    noon = history[history["window_start"].dt.hour == 12]["cpu_utilization_mean"].mean()
    midnight = history[history["window_start"].dt.hour == 0]["cpu_utilization_mean"].mean()
    assert noon > midnight * 1.3
    assert history["window_end"].iloc[0] - history["window_start"].iloc[0] == timedelta(minutes=1)
