from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from anomaly_detection_model.artifact import load_artifact
from anomaly_detection_model.feature_store import DuckDBFeatureStore
from anomaly_detection_model.synthetic_features import healthy_feature_rows
from anomaly_detection_model.training_pipeline import PIPELINE_NAME, compile_pipeline, run_local

STEPS = {
    "extract-component",
    "train-component",
    "current-model-component",
    "evaluate-component",
    "gate-component",
    "register-component",
}


def test_pipeline_compiles_to_yaml_with_every_step_and_no_installs(tmp_path: Path) -> None:
    path = compile_pipeline(tmp_path / "training_pipeline.yaml", image="europe-docker.pkg.dev/acme/healer/train:1")
    spec = yaml.safe_load(path.read_text())
    assert spec["pipelineInfo"]["name"] == PIPELINE_NAME
    assert set(spec["root"]["dag"]["tasks"]) == STEPS
    inputs = set(spec["root"]["inputDefinitions"]["parameters"])
    assert {"store_uri", "train_start", "train_end", "holdout_end", "model_root", "registry_uri"} <= inputs
    register = spec["root"]["dag"]["tasks"]["register-component"]
    assert register["inputs"]["parameters"]["promote"]["taskOutputParameter"]["producerTask"] == "gate-component"
    for executor in spec["deploymentSpec"]["executors"].values():
        container = executor["container"]
        assert container["image"] == "europe-docker.pkg.dev/acme/healer/train:1"
        assert "pip install" not in " ".join(container["command"])


@pytest.mark.slow
def test_local_kfp_run_trains_evaluates_gates_and_registers(tmp_path: Path) -> None:
    frame = healthy_feature_rows(["shop/web", "shop/api"], datetime(2026, 1, 1, tzinfo=UTC), 1560, seed=12)
    for column in ("window_start", "window_end"):
        frame[column] = frame[column].map(lambda t: t.isoformat())
    store = tmp_path / "features.duckdb"
    DuckDBFeatureStore(store).append("features", frame.to_dict("records"))
    registry = tmp_path / "registry.json"
    run_local(
        {
            "store_uri": f"duckdb://{store}",
            "train_start": "2026-01-01T00:00:00Z",
            "train_end": "2026-01-02T00:00:00Z",
            "holdout_end": "2026-01-02T02:00:00Z",
            "model_root": str(tmp_path / "models"),
            "registry_uri": f"local:{registry}",
            "n_estimators": 50,
        },
        tmp_path / "pipeline_root",
    )
    models = json.loads(registry.read_text())["models"]
    assert len(models) == 1
    artifact = load_artifact(Path(models[0]["artifact_uri"]))
    assert Path(models[0]["artifact_uri"]).parent == tmp_path / "models"
    assert artifact.metadata.version == models[0]["version"]
    assert artifact.metadata.evaluation == models[0]["evaluation"]
    assert artifact.metadata.evaluation["holdout_rows"] == 2 * 120
    assert artifact.metadata.training_window["start"].startswith("2026-01-01T00:00:00")
    assert artifact.metadata.rows == 2 * 1440


def test_cli_rejects_bad_windows_before_running(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from anomaly_detection_model.training_pipeline import main

    common = ["--store-uri", "duckdb://x.duckdb", "--model-root", "m", "--registry-uri", "local:r.json"]
    times = ["--train-start", "2026-01-02T00:00:00Z", "--train-end", "2026-01-01T00:00:00Z"]
    with pytest.raises(SystemExit):
        main(["run-local", *common, *times, "--holdout-end", "2026-01-03T00:00:00Z"])
    assert "--train-start < --train-end < --holdout-end" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["run-local", *common, "--train-start", "yesterday", "--train-end", "x", "--holdout-end", "y"])
    assert "invalid RFC 3339 timestamp 'yesterday'" in capsys.readouterr().err
    assert main(["compile", "--out", str(tmp_path / "p.yaml")]) == 0
    assert (tmp_path / "p.yaml").is_file()
