"""The training loop as plain functions: extract -> train -> evaluate -> gate -> register.

The kfp components in :mod:`training_pipeline` only call these; they are
tested directly. Data passes between steps as Parquet files and artifact
directories, so the same functions serve kfp (artifact paths) and scripts.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from anomaly_detection_model.model_registry import open_registry
from anomaly_detection_model.promotion_gate import gate
from anomaly_detection_model.score_metric import parse_rfc3339

# pandas, scikit-learn and the stores are imported inside the steps that use them, so
# that each kfp task (a fresh process) pays only for what it needs.


_RELATIVE = re.compile(r"^-(\d+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def resolve_time(text: str, now: datetime | None = None) -> datetime:
    """An RFC 3339 instant, or one relative to the run: ``now``, ``-90m``, ``-6h``, ``-14d``.

    Relative windows let a scheduled run (Cloud Scheduler posts a fixed body) train on a rolling window.
    """
    stripped = text.strip()
    now = now or datetime.now(UTC)
    if stripped == "now":
        return now
    match = _RELATIVE.match(stripped)
    if match:
        return now - timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    return parse_rfc3339(stripped)


def _time(text: str, name: str, now: datetime | None = None) -> datetime:
    try:
        return resolve_time(text, now)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc} (or a relative time such as now, -6h, -14d)") from exc


def extract_features(
    store_uri: str, train_start: str, train_end: str, holdout_end: str, train_path: str, holdout_path: str
) -> dict[str, int]:
    """Read ``[train_start, holdout_end)`` from the store; rows before ``train_end`` train, the rest are held back."""
    now = datetime.now(UTC)
    start, split, end = (
        _time(train_start, "train_start", now),
        _time(train_end, "train_end", now),
        _time(holdout_end, "holdout_end", now),
    )
    if not start < split < end:
        raise ValueError("need train_start < train_end < holdout_end")
    from anomaly_detection_model.feature_store import open_store

    store = open_store(store_uri)
    training = store.read_features(start, split)
    holdout = store.read_features(split, end)
    if training.empty:
        raise ValueError(f"no feature rows between {train_start} and {train_end} in {store_uri}")
    if holdout.empty:
        raise ValueError(f"no held-back feature rows between {train_end} and {holdout_end} in {store_uri}")
    for frame, path in ((training, train_path), (holdout, holdout_path)):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        frame.to_parquet(path, index=False)
    return {"train_rows": len(training), "holdout_rows": len(holdout)}


def train_model(train_path: str, artifact_dir: str, n_estimators: int = 200, threshold_quantile: float = 0.995) -> str:
    """Train on the extracted rows and save an artifact (no evaluation yet); returns its version."""
    import pandas as pd

    from anomaly_detection_model.artifact import build_artifact, save_artifact
    from anomaly_detection_model.workload_model import TrainingParams, train

    frame = pd.read_parquet(train_path)
    model = train(frame, TrainingParams(n_estimators=n_estimators, threshold_quantile=threshold_quantile))
    window = {
        "start": pd.Timestamp(frame["window_start"].min()).isoformat(),
        "end": pd.Timestamp(frame["window_end"].max()).isoformat(),
    }
    artifact = build_artifact(model, frame, window)
    save_artifact(artifact, Path(artifact_dir))
    return artifact.metadata.version


def evaluate_model(artifact_dir: str, holdout_path: str, current_artifact_uri: str = "", seed: int = 11) -> str:
    """Evaluate the candidate (and the current model, if any) on the held-back rows.

    Writes the candidate's figures into its ``metadata.json``; returns JSON
    ``{"candidate": {...}, "current": {...} | null, "current_version": str}``.
    """
    import pandas as pd

    from anomaly_detection_model.artifact import fetch_artifact, load_artifact, save_artifact
    from anomaly_detection_model.holdout import evaluate

    holdout = pd.read_parquet(holdout_path)
    candidate = load_artifact(Path(artifact_dir))
    figures = evaluate(candidate.model, holdout, seed=seed)
    save_artifact(candidate.with_evaluation(figures), Path(artifact_dir))
    current_figures = None
    current_version = ""
    if current_artifact_uri:
        current = load_artifact(fetch_artifact(current_artifact_uri))
        current_figures = evaluate(current.model, holdout, seed=seed)
        current_version = current.metadata.version
    return json.dumps({"candidate": figures, "current": current_figures, "current_version": current_version})


def current_model_uri(registry_uri: str) -> str:
    """Artifact URI of the registry's current model, or "" when there is none."""
    current = open_registry(registry_uri).current()
    return current.artifact_uri if current else ""


def gate_model(evaluation_json: str, min_gain: float = 0.0, max_false_positive_rate: float = 0.02) -> dict[str, Any]:
    data = json.loads(evaluation_json)
    decision = gate(data["candidate"], data.get("current"), min_gain, max_false_positive_rate)
    return {"promote": decision.promote, "reason": decision.reason}


def register_model(artifact_dir: str, model_root: str, registry_uri: str) -> str:
    """Copy the artifact to ``<model_root>/<version>/`` and record it in the registry; returns its URI."""
    from anomaly_detection_model.artifact import load_metadata, publish_artifact

    metadata = load_metadata(Path(artifact_dir))
    uri = publish_artifact(Path(artifact_dir), model_root, metadata.version)
    open_registry(registry_uri).register(metadata.version, uri, metadata.evaluation)
    return uri
