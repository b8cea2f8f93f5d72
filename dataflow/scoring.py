"""Scoring feature rows with the model artifact, for Beam's ``RunInference``.

The artifact's ``model.joblib`` is a plain scikit-learn ``Pipeline``, loaded by
``SklearnModelHandlerNumpy``; the calibration and explanation state from its
``metadata.json`` is read once at pipeline construction and travels with the
``inference_fn`` (a picklable partial of this module's function, so workers need
this repository's packages, as for every other step).
"""

from __future__ import annotations

import functools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from anomaly_detection_model.artifact import MODEL_FILE, ArtifactMetadata, fetch_artifact, load_metadata
from anomaly_detection_model.features import row_vector
from anomaly_detection_model.workload_model import ScoringState, explain, score_with
from dataflow.window_features import iso_utc

MAX_BATCH = 2000  # rows per score_samples call


def load_scoring_metadata(model_dir: str) -> ArtifactMetadata:
    return load_metadata(fetch_artifact(model_dir))


def model_file_uri(model_dir: str) -> str:
    return (
        f"{model_dir.rstrip('/')}/{MODEL_FILE}" if model_dir.startswith("gs://") else str(Path(model_dir) / MODEL_FILE)
    )


def make_model_handler(model_dir: str, metadata: ArtifactMetadata) -> Any:
    """``KeyedModelHandler(SklearnModelHandlerNumpy(...))`` scoring with ``score_samples``."""
    from apache_beam.ml.inference.base import KeyedModelHandler
    from apache_beam.ml.inference.sklearn_inference import ModelFileType, SklearnModelHandlerNumpy

    inference_fn = functools.partial(_inference_fn, state=metadata.state)
    return KeyedModelHandler(
        SklearnModelHandlerNumpy(
            model_uri=model_file_uri(model_dir),
            model_file_type=ModelFileType.JOBLIB,
            inference_fn=inference_fn,
            max_batch_size=MAX_BATCH,
        )
    )


def _inference_fn(
    model: Any, batch: list[np.ndarray], inference_args: dict[str, Any] | None = None, *, state: ScoringState
) -> list[float]:
    return score_with(model, batch, state)


def keyed_vector(row: dict[str, Any], state: ScoringState) -> tuple[str, np.ndarray]:
    """(the feature row as JSON, its model vector): the key carries the row through RunInference."""
    return json.dumps(row, sort_keys=True), row_vector(row, state.impute)


def score_row(
    row_json: str,
    vector: np.ndarray,
    score: float,
    metadata: ArtifactMetadata,
    scored_at: datetime | None = None,
) -> dict[str, Any]:
    """A row of the ``anomaly_scores`` table."""
    row = json.loads(row_json)
    return {
        "window_end": row["window_end"],
        "project_id": row["project_id"],
        "location": row.get("location"),
        "cluster": row["cluster"],
        "namespace": row["namespace"],
        "controller_kind": row.get("controller_kind"),
        "controller_name": row["controller_name"],
        "pod_name": row.get("last_pod_name"),
        "container_name": row.get("last_container_name"),
        "score": float(score),
        "threshold": metadata.threshold,
        "is_anomaly": bool(score > metadata.threshold),
        "model_version": metadata.version,
        "top_features": json.dumps(explain(vector, metadata.state.robust)),
        "scored_at": iso_utc((scored_at or datetime.now(UTC)).timestamp()),
    }
