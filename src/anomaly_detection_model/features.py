"""Feature engineering: from rows of the ``features`` table to the model's matrix.

A row of the ``features`` table is one workload (project, location, cluster,
namespace, controller) in one 1-minute window. The model sees eight columns:
the four utilisation figures as they are, and the four counts through
``log1p`` so that one restart and fifty restarts are both far from zero but not
a thousand standard deviations apart. Missing utilisation (a window with logs
but no metric point) is filled with the training median stored in the artifact.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

KEY_COLUMNS: tuple[str, ...] = (
    "project_id",
    "location",
    "cluster",
    "namespace",
    "controller_kind",
    "controller_name",
)

UTILISATION_COLUMNS: tuple[str, ...] = (
    "cpu_utilization_mean",
    "cpu_utilization_max",
    "memory_utilization_mean",
    "memory_utilization_max",
)
COUNT_COLUMNS: tuple[str, ...] = (
    "restart_delta",
    "oom_killed_count",
    "error_log_count",
    "warning_log_count",
)
FEATURE_COLUMNS: tuple[str, ...] = UTILISATION_COLUMNS + COUNT_COLUMNS


class FeatureError(ValueError):
    """Input rows cannot be turned into features; the message says why."""


def default_impute(frame: pd.DataFrame) -> dict[str, float]:
    """Fill values for missing utilisation: the median of the training rows (0 if none)."""
    values: dict[str, float] = {}
    for column in UTILISATION_COLUMNS:
        series = pd.to_numeric(frame[column], errors="coerce") if column in frame else pd.Series([])
        median = series.median()
        values[column] = 0.0 if pd.isna(median) else float(median)
    return values


def _engineer_value(column: str, value: Any, impute: Mapping[str, float]) -> float:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return float(impute.get(column, 0.0)) if column in UTILISATION_COLUMNS else 0.0
    number = float(value)
    if column in COUNT_COLUMNS:
        return math.log1p(max(number, 0.0))
    return number


def row_vector(row: Mapping[str, Any], impute: Mapping[str, float]) -> np.ndarray:
    """One feature row (a dict with the table's columns) -> the model's input vector."""
    return np.array([_engineer_value(c, row.get(c), impute) for c in FEATURE_COLUMNS], dtype=float)


def feature_matrix(frame: pd.DataFrame, impute: Mapping[str, float]) -> np.ndarray:
    """Rows of the ``features`` table -> an (n, 8) float matrix in FEATURE_COLUMNS order."""
    missing = [c for c in FEATURE_COLUMNS if c not in frame.columns]
    if missing:
        raise FeatureError(f"feature rows lack columns {missing}")
    out = np.empty((len(frame), len(FEATURE_COLUMNS)), dtype=float)
    for j, column in enumerate(FEATURE_COLUMNS):
        series = pd.to_numeric(frame[column], errors="coerce").astype(float)
        if column in UTILISATION_COLUMNS:
            out[:, j] = series.fillna(float(impute.get(column, 0.0))).to_numpy()
        else:
            out[:, j] = np.log1p(series.fillna(0.0).clip(lower=0.0).to_numpy())
    return out


def raw_values(vector: Sequence[float] | np.ndarray) -> dict[str, float]:
    """Undo the engineering of one vector, for human-readable explanations."""
    values = {}
    for column, value in zip(FEATURE_COLUMNS, vector, strict=True):
        values[column] = float(math.expm1(value)) if column in COUNT_COLUMNS else float(value)
    return values
