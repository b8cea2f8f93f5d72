from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sklearn

from anomaly_detection_model.artifact import (
    ArtifactError,
    build_artifact,
    data_hash,
    load_artifact,
    publish_artifact,
    save_artifact,
    versioned_uri,
)
from anomaly_detection_model.features import FEATURE_COLUMNS
from anomaly_detection_model.synthetic_features import healthy_feature_rows
from anomaly_detection_model.workload_model import TrainingParams, train

WINDOW = {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T12:00:00Z"}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return healthy_feature_rows(["shop/web", "shop/api"], datetime(2026, 1, 1, tzinfo=UTC), 720, seed=8)


@pytest.fixture(scope="module")
def artifact(frame):
    model = train(frame, TrainingParams(n_estimators=50))
    return build_artifact(model, frame, WINDOW, now=datetime(2026, 1, 1, 12, 5, tzinfo=UTC)).with_evaluation(
        {"roc_auc": 0.99}
    )


def test_round_trip_scores_identically_and_keeps_metadata(tmp_path: Path, artifact, frame) -> None:
    directory = save_artifact(artifact, tmp_path / artifact.metadata.version)
    assert sorted(p.name for p in directory.iterdir()) == ["metadata.json", "model.joblib"]
    loaded = load_artifact(directory)
    np.testing.assert_array_equal(loaded.model.score_frame(frame), artifact.model.score_frame(frame))
    assert loaded.metadata == artifact.metadata
    meta = json.loads((directory / "metadata.json").read_text())
    assert meta["features"] == list(FEATURE_COLUMNS)
    assert meta["threshold"] == 0.8
    assert meta["training_window"] == WINDOW
    assert meta["evaluation"] == {"roc_auc": 0.99}
    assert meta["sklearn_version"] == sklearn.__version__
    assert meta["rows"] == len(frame)
    assert re.fullmatch(r"v20260101T120500Z-[0-9a-f]{8}", meta["version"])
    assert meta["data_hash"].startswith("sha256:") and meta["data_hash"][7:15] in meta["version"]


def test_data_hash_ignores_row_order_but_not_values(frame) -> None:
    shuffled = frame.sample(frac=1.0, random_state=1)
    assert data_hash(shuffled) == data_hash(frame)
    changed = frame.copy()
    changed.loc[changed.index[0], "error_log_count"] += 1
    assert data_hash(changed) != data_hash(frame)


def test_incomplete_or_foreign_artifacts_are_rejected(tmp_path: Path, artifact) -> None:
    with pytest.raises(ArtifactError, match=r"metadata\.json"):
        load_artifact(tmp_path)
    directory = save_artifact(artifact, tmp_path / "a")
    (directory / "model.joblib").unlink()
    with pytest.raises(ArtifactError, match=r"model\.joblib"):
        load_artifact(directory)
    meta = json.loads((directory / "metadata.json").read_text())
    del meta["threshold"]
    (directory / "metadata.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="threshold"):
        load_artifact(directory)
    (directory / "metadata.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        load_artifact(directory)


def test_publish_copies_to_a_versioned_local_path(tmp_path: Path, artifact) -> None:
    source = save_artifact(artifact, tmp_path / "work")
    uri = publish_artifact(source, str(tmp_path / "models"), artifact.metadata.version)
    assert uri == str(tmp_path / "models" / artifact.metadata.version)
    assert load_artifact(Path(uri)).metadata.version == artifact.metadata.version
    assert versioned_uri("gs://bucket/anomaly/", "v1") == "gs://bucket/anomaly/v1"
    with pytest.raises(ArtifactError, match="invalid artifact version"):
        versioned_uri("gs://bucket", "../v1")
