"""Baseline detectors the streaming detector is compared with.

Both learn from the probationary rows only (NAB lets a detector learn there) and score 0 on them.

* Static threshold: the "value above a fixed level" rule of a classic alert such as CPU > 90%.
  Units differ between metrics, so the level is a fixed percentile of the learning rows; the score
  is the value's upper-tail rank against those rows, so one corpus-wide score threshold means one
  fixed percentile level for every series.
* IsolationForest over rolling-window features (value, mean and standard deviation of the last
  12 rows, first difference), fitted on the learning rows; the score is sklearn's anomaly score
  ``-score_samples`` (in [0, 1]).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence

import numpy as np

from anomaly_detection_model.evaluation.nab_scoring import probation_length

ROLLING_WINDOW = 12


def static_threshold_scores(values: Sequence[float]) -> list[float]:
    """Fraction of learning rows strictly below each value (1.0 = above everything seen there)."""
    learning = probation_length(len(values))
    if learning == 0:
        return [0.0] * len(values)
    reference = sorted(values[:learning])
    scores = [0.0] * learning
    scores.extend(bisect_left(reference, value) / learning for value in values[learning:])
    return scores


def rolling_features(values: Sequence[float], window: int = ROLLING_WINDOW) -> np.ndarray:
    """Per row: value, mean and std of the last `window` rows (itself included), first difference."""
    rows: list[tuple[float, float, float, float]] = []
    for i, value in enumerate(values):
        recent = values[max(0, i - window + 1) : i + 1]
        mean = sum(recent) / len(recent)
        spread = math.sqrt(sum((v - mean) ** 2 for v in recent) / len(recent))
        step = value - values[i - 1] if i else 0.0
        rows.append((value, mean, spread, step))
    return np.asarray(rows, dtype=float)


def isolation_forest_scores(values: Sequence[float], seed: int = 0) -> list[float]:
    """IsolationForest fitted on the learning rows' rolling features, scoring the rows after them."""
    learning = probation_length(len(values))
    if learning < 2:
        return [0.0] * len(values)
    from sklearn.ensemble import IsolationForest  # heavy import, only when this baseline runs

    features = rolling_features(values)
    forest = IsolationForest(n_estimators=100, random_state=seed)
    forest.fit(features[:learning])
    after = (-forest.score_samples(features[learning:])).tolist()
    return [0.0] * learning + [min(1.0, max(0.0, float(score))) for score in after]
