from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from anomaly_detection_model.artifact import load_artifact
from anomaly_detection_model.feature_store import DuckDBFeatureStore
from anomaly_detection_model.model_registry import LocalRegistry, RegistryError, VertexRegistry, open_registry
from anomaly_detection_model.promotion_gate import gate
from anomaly_detection_model.synthetic_features import healthy_feature_rows
from anomaly_detection_model.training_steps import (
    current_model_uri,
    evaluate_model,
    extract_features,
    gate_model,
    register_model,
    train_model,
)

TRAIN_START, TRAIN_END, HOLDOUT_END = "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z", "2026-01-02T02:00:00Z"


@pytest.fixture(scope="module")
def store_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    frame = healthy_feature_rows(["shop/web", "shop/api"], datetime(2026, 1, 1, tzinfo=UTC), 1560, seed=6)
    for column in ("window_start", "window_end"):
        frame[column] = frame[column].map(lambda t: t.isoformat())
    path = tmp_path_factory.mktemp("store") / "features.duckdb"
    DuckDBFeatureStore(path).append("features", frame.to_dict("records"))
    return f"duckdb://{path}"


def test_the_loop_as_plain_functions_registers_then_gates_an_equal_candidate(tmp_path: Path, store_uri: str) -> None:
    train_path, holdout_path = str(tmp_path / "train.parquet"), str(tmp_path / "holdout.parquet")
    counts = extract_features(store_uri, TRAIN_START, TRAIN_END, HOLDOUT_END, train_path, holdout_path)
    assert counts == {"train_rows": 2 * 1440, "holdout_rows": 2 * 120}
    assert pd.read_parquet(holdout_path)["window_start"].min() == pd.Timestamp(TRAIN_END)

    registry = f"local:{tmp_path / 'registry.json'}"
    assert current_model_uri(registry) == ""
    version = train_model(train_path, str(tmp_path / "candidate"), n_estimators=60)
    evaluation = evaluate_model(str(tmp_path / "candidate"), holdout_path, current_model_uri(registry))
    figures = json.loads(evaluation)
    assert figures["current"] is None
    assert load_artifact(tmp_path / "candidate").metadata.evaluation == figures["candidate"]
    decision = gate_model(evaluation)
    assert decision["promote"] is True and "no current model" in decision["reason"]
    uri = register_model(str(tmp_path / "candidate"), str(tmp_path / "models"), registry)
    assert uri == str(tmp_path / "models" / version)
    entry = json.loads((tmp_path / "registry.json").read_text())
    assert entry["registry"] == "local registry"
    assert [m["version"] for m in entry["models"]] == [version]
    assert entry["models"][0]["evaluation"]["roc_auc"] == figures["candidate"]["roc_auc"]

    # the same data again: the candidate is no better than the current model
    train_model(train_path, str(tmp_path / "again"), n_estimators=60)
    second = json.loads(evaluate_model(str(tmp_path / "again"), holdout_path, current_model_uri(registry)))
    assert second["current_version"] == version
    assert second["current"]["average_precision"] == figures["candidate"]["average_precision"]
    assert gate_model(json.dumps(second), min_gain=0.0)["promote"] is (
        second["candidate"]["average_precision"] > second["current"]["average_precision"]
    )


def test_extract_explains_bad_windows(tmp_path: Path, store_uri: str) -> None:
    out = (str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet"))
    with pytest.raises(ValueError, match="train_start < train_end < holdout_end"):
        extract_features(store_uri, TRAIN_END, TRAIN_START, HOLDOUT_END, *out)
    with pytest.raises(ValueError, match="no held-back feature rows"):
        extract_features(
            store_uri,
            TRAIN_START,
            "2026-01-05T00:00:00Z",
            "2026-01-06T00:00:00Z",
            *out,
        )
    with pytest.raises(ValueError, match="train_start"):
        extract_features(store_uri, "last week", TRAIN_END, HOLDOUT_END, *out)


CANDIDATE = {"average_precision": 0.95, "false_positive_rate": 0.01}


@pytest.mark.parametrize(
    ("current", "kwargs", "promote", "reason"),
    [
        (None, {}, True, "no current model"),
        ({"average_precision": 0.90}, {}, True, "beats current"),
        ({"average_precision": 0.95}, {}, False, "does not beat"),
        ({"average_precision": 0.94}, {"min_gain": 0.02}, False, "does not beat"),
        (None, {"max_false_positive_rate": 0.005}, False, "false-positive rate"),
    ],
)
def test_gate(current, kwargs, promote: bool, reason: str) -> None:
    decision = gate(CANDIDATE, current, **kwargs)
    assert decision.promote is promote
    assert reason in decision.reason


def test_registry_uris_and_malformed_files(tmp_path: Path) -> None:
    assert isinstance(open_registry("vertex://acme-prod/europe-west1/workload-anomaly"), VertexRegistry)
    assert isinstance(open_registry(str(tmp_path / "r.json")), LocalRegistry)
    with pytest.raises(RegistryError, match="vertex://PROJECT/LOCATION/DISPLAY_NAME"):
        open_registry("vertex://acme-prod")
    with pytest.raises(RegistryError, match="unknown registry URI"):
        open_registry("s3://bucket")
    (tmp_path / "r.json").write_text("[]")
    with pytest.raises(RegistryError, match="not a model registry file"):
        LocalRegistry(tmp_path / "r.json").current()


def test_relative_training_windows_resolve_against_the_run_time() -> None:
    from datetime import UTC, datetime

    import pytest

    from anomaly_detection_model.training_steps import resolve_time

    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert resolve_time("now", now) == now
    assert resolve_time("-14d", now) == datetime(2026, 11, 9, 12, 0, tzinfo=UTC)
    assert resolve_time("-6h", now) == datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    assert resolve_time("2026-11-01T00:00:00Z", now) == datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        resolve_time("-2w", now)
