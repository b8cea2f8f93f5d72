"""The workload anomaly model: training, calibrated scoring and explanations.

Model: ``StandardScaler`` -> ``IsolationForest`` in a scikit-learn ``Pipeline``
over the eight feature columns (see :mod:`features`). The raw anomaly value is
the forest's negated ``score_samples`` (higher = more anomalous) plus a tail
term: how far, in robust units, the most extreme feature lies beyond the
training window's 99.9th percentile. (A forest picks one feature per split, so
a single feature far outside everything seen, such as an error-log burst, moves
its score too little on its own.) The raw value is calibrated on the training
window into a score in [0, 1]:

* up to the raw threshold (the ``threshold_quantile`` of the training raw
  values, 0.995 by default) the score is the empirical rank scaled onto
  [0, ALERT_LEVEL], so healthy windows stay at or below ALERT_LEVEL;
* beyond it the score rises from ALERT_LEVEL towards 1 with the distance past
  the raw threshold, in units of the training spread.

So the model's threshold in score units is ALERT_LEVEL (0.8), the value the
``gke-workload-anomaly`` alert rule compares against, and the raw threshold that
maps onto it is chosen from the training data and stored in the artifact.

Explanations: per-feature robust z-scores against the training median and
scaled MAD, largest first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import IsolationForest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from anomaly_detection_model.features import (
    FEATURE_COLUMNS,
    default_impute,
    feature_matrix,
    raw_values,
    row_vector,
)

ALERT_LEVEL = 0.8  # must match config/alert_rules.yaml gke-workload-anomaly threshold
_QUANTILE_LEVELS = np.linspace(0.0, 1.0, 201)
_MAD_TO_SIGMA = 1.4826
TAIL_WEIGHT = 0.1  # raw units per robust unit beyond the training window's 99.9th percentile


@dataclass(frozen=True)
class Calibration:
    """Maps raw anomaly values (-score_samples) to scores in [0, 1]."""

    quantiles: tuple[float, ...]  # raw values at _QUANTILE_LEVELS of the training window
    raw_threshold: float
    threshold_quantile: float
    spread: float
    alert_level: float = ALERT_LEVEL

    def score(self, raw: np.ndarray) -> np.ndarray:
        raw = np.asarray(raw, dtype=float)
        rank = np.interp(raw, np.asarray(self.quantiles), _QUANTILE_LEVELS)
        below = self.alert_level * np.minimum(rank / self.threshold_quantile, 1.0)
        excess = np.maximum(raw - self.raw_threshold, 0.0) / self.spread
        above = self.alert_level + (1.0 - self.alert_level) * (1.0 - np.exp(-excess))
        return np.clip(np.where(raw > self.raw_threshold, above, below), 0.0, 1.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "quantiles": list(self.quantiles),
            "raw_threshold": self.raw_threshold,
            "threshold_quantile": self.threshold_quantile,
            "spread": self.spread,
            "alert_level": self.alert_level,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        return cls(
            quantiles=tuple(float(q) for q in data["quantiles"]),
            raw_threshold=float(data["raw_threshold"]),
            threshold_quantile=float(data["threshold_quantile"]),
            spread=float(data["spread"]),
            alert_level=float(data.get("alert_level", ALERT_LEVEL)),
        )


@dataclass(frozen=True)
class RobustStats:
    """Per-feature median, robust scale and upper reference (99.9th pct) of the engineered features."""

    median: dict[str, float]
    scale: dict[str, float]
    upper: dict[str, float]

    def tail_excess(self, matrix: np.ndarray) -> np.ndarray:
        """Per row: max over features of (value - upper) / scale, floored at 0."""
        upper = np.array([self.upper[c] for c in FEATURE_COLUMNS])
        scale = np.array([self.scale[c] for c in FEATURE_COLUMNS])
        return np.maximum((matrix - upper) / scale, 0.0).max(axis=1)

    def z_scores(self, vector: Sequence[float] | np.ndarray) -> dict[str, float]:
        return {c: (float(v) - self.median[c]) / self.scale[c] for c, v in zip(FEATURE_COLUMNS, vector, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        return {"median": self.median, "scale": self.scale, "upper": self.upper}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RobustStats:
        return cls(
            median={k: float(v) for k, v in data["median"].items()},
            scale={k: float(v) for k, v in data["scale"].items()},
            upper={k: float(v) for k, v in data["upper"].items()},
        )


@dataclass(frozen=True)
class TrainingParams:
    n_estimators: int = 200
    max_samples: int = 512
    threshold_quantile: float = 0.995
    random_state: int = 7


@dataclass(frozen=True)
class ScoringState:
    """Everything besides the sklearn estimator that scoring and explaining need."""

    calibration: Calibration
    robust: RobustStats
    impute: dict[str, float]
    tail_weight: float = TAIL_WEIGHT
    features: tuple[str, ...] = FEATURE_COLUMNS

    def raw_scores(self, estimator: Any, matrix: np.ndarray) -> np.ndarray:
        return raw_anomaly(estimator, matrix, self.robust, self.tail_weight)

    def to_dict(self) -> dict[str, Any]:
        return {
            "calibration": self.calibration.to_dict(),
            "robust_stats": self.robust.to_dict(),
            "impute": self.impute,
            "tail_weight": self.tail_weight,
            "features": list(self.features),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScoringState:
        features = tuple(data.get("features", FEATURE_COLUMNS))
        if features != FEATURE_COLUMNS:
            raise ValueError(f"artifact features {list(features)} differ from this code's {list(FEATURE_COLUMNS)}")
        return cls(
            calibration=Calibration.from_dict(data["calibration"]),
            robust=RobustStats.from_dict(data["robust_stats"]),
            impute={k: float(v) for k, v in data["impute"].items()},
            tail_weight=float(data["tail_weight"]),
        )


@dataclass
class WorkloadModel:
    """A trained estimator with its scoring state."""

    estimator: Pipeline
    state: ScoringState
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def threshold(self) -> float:
        return self.state.calibration.alert_level

    def raw_scores(self, matrix: np.ndarray) -> np.ndarray:
        return self.state.raw_scores(self.estimator, matrix)

    def score_matrix(self, matrix: np.ndarray) -> np.ndarray:
        """Calibrated scores in [0, 1] for engineered feature vectors (higher = more anomalous)."""
        if matrix.ndim != 2 or matrix.shape[1] != len(FEATURE_COLUMNS):
            raise ValueError(f"expected an (n, {len(FEATURE_COLUMNS)}) matrix, got shape {matrix.shape}")
        if len(matrix) == 0:
            return np.zeros(0)
        return self.state.calibration.score(self.raw_scores(matrix))

    def score_frame(self, frame: pd.DataFrame) -> np.ndarray:
        return self.score_matrix(feature_matrix(frame, self.state.impute))

    def vector(self, row: Mapping[str, Any]) -> np.ndarray:
        return row_vector(row, self.state.impute)


def raw_anomaly(estimator: Any, matrix: np.ndarray, robust: RobustStats, tail_weight: float) -> np.ndarray:
    """Negated forest ``score_samples`` plus the weighted tail excess (higher = more anomalous)."""
    forest = -np.asarray(estimator.score_samples(matrix), dtype=float)
    return forest + tail_weight * robust.tail_excess(matrix)


def score_with(estimator: Any, batch: Sequence[np.ndarray], state: ScoringState) -> list[float]:
    """Score a batch of vectors: the ``inference_fn`` shape Beam's sklearn handlers call."""
    if len(batch) == 0:
        return []
    matrix = np.stack([np.asarray(v, dtype=float) for v in batch], axis=0)
    return [float(s) for s in state.calibration.score(state.raw_scores(estimator, matrix))]


def explain(vector: Sequence[float] | np.ndarray, robust: RobustStats, top: int = 3) -> list[dict[str, Any]]:
    """The features that deviate most from the training window, as robust z-scores."""
    z = robust.z_scores(vector)
    values = raw_values(vector)
    ranked = sorted(FEATURE_COLUMNS, key=lambda c: abs(z[c]), reverse=True)[:top]
    return [{"feature": c, "value": round(values[c], 4), "z": round(z[c], 2)} for c in ranked]


def _robust_stats(matrix: np.ndarray) -> RobustStats:
    median = np.median(matrix, axis=0)
    mad = np.median(np.abs(matrix - median), axis=0) * _MAD_TO_SIGMA
    std = matrix.std(axis=0)
    scale = np.where(mad > 1e-9, mad, np.where(std > 1e-9, std, 1.0))
    # a floor so that a feature that is almost always 0 (restarts) gives finite, comparable z
    scale = np.maximum(scale, 0.05)
    upper = np.quantile(matrix, 0.999, axis=0)
    return RobustStats(
        median={c: float(m) for c, m in zip(FEATURE_COLUMNS, median, strict=True)},
        scale={c: float(s) for c, s in zip(FEATURE_COLUMNS, scale, strict=True)},
        upper={c: float(u) for c, u in zip(FEATURE_COLUMNS, upper, strict=True)},
    )


def calibrate(raw: np.ndarray, threshold_quantile: float) -> Calibration:
    quantiles = np.quantile(raw, _QUANTILE_LEVELS)
    raw_threshold = float(np.quantile(raw, threshold_quantile))
    spread = float(max(raw_threshold - float(np.median(raw)), 1e-6))
    return Calibration(
        quantiles=tuple(float(q) for q in quantiles),
        raw_threshold=raw_threshold,
        threshold_quantile=threshold_quantile,
        spread=spread,
    )


def train(frame: pd.DataFrame, params: TrainingParams | None = None) -> WorkloadModel:
    """Fit the model on rows of the ``features`` table (a healthy training window)."""
    params = params or TrainingParams()
    if len(frame) < 50:
        raise ValueError(f"need at least 50 feature rows to train, got {len(frame)}")
    if not 0.5 < params.threshold_quantile < 1.0:
        raise ValueError(f"threshold_quantile must be in (0.5, 1), got {params.threshold_quantile}")
    impute = default_impute(frame)
    matrix = feature_matrix(frame, impute)
    estimator = Pipeline(
        [
            ("scale", StandardScaler()),
            (
                "forest",
                IsolationForest(
                    n_estimators=params.n_estimators,
                    max_samples=min(params.max_samples, len(matrix)),
                    random_state=params.random_state,
                ),
            ),
        ]
    )
    estimator.fit(matrix)
    robust = _robust_stats(matrix)
    raw = raw_anomaly(estimator, matrix, robust, TAIL_WEIGHT)
    state = ScoringState(calibration=calibrate(raw, params.threshold_quantile), robust=robust, impute=impute)
    return WorkloadModel(estimator=estimator, state=state, extra={"params": params.__dict__.copy()})
