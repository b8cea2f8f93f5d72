"""Seeded synthetic metric series with injected anomalies, for tests and benchmarks."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from enum import Enum


class AnomalyKind(Enum):
    SPIKE = "spike"
    LEVEL_SHIFT = "level_shift"
    VARIANCE_CHANGE = "variance_change"
    DRIFT = "drift"


@dataclass(frozen=True)
class SyntheticSeries:
    values: tuple[float, ...]
    anomaly_start: int | None
    kind: AnomalyKind | None


def make_series(
    length: int,
    seed: int,
    kind: AnomalyKind | None = None,
    anomaly_start: int | None = None,
    base: float = 50.0,
    noise: float = 2.0,
    daily_period: int = 288,
    daily_amplitude: float = 0.0,
) -> SyntheticSeries:
    """Gaussian noise around `base` (optionally with a daily cycle) and at most one anomaly.

    SPIKE: one point 12 noise-sigmas up; LEVEL_SHIFT: +8 sigmas from `anomaly_start` on;
    VARIANCE_CHANGE: noise x5 from then on; DRIFT: a ramp of +0.1 sigma per row from then on.
    """
    if kind is not None and (anomaly_start is None or not 0 <= anomaly_start < length):
        raise ValueError("an anomaly needs a start row inside the series")
    rng = random.Random(seed)
    values: list[float] = []
    for i in range(length):
        cycle = daily_amplitude * math.sin(2.0 * math.pi * i / daily_period) if daily_amplitude else 0.0
        sigma = noise
        level = base + cycle
        after = anomaly_start is not None and i >= anomaly_start
        if after and kind is AnomalyKind.VARIANCE_CHANGE:
            sigma = noise * 5.0
        if after and kind is AnomalyKind.LEVEL_SHIFT:
            level += 8.0 * noise
        if after and kind is AnomalyKind.DRIFT and anomaly_start is not None:
            level += 0.1 * noise * (i - anomaly_start)
        value = level + rng.gauss(0.0, sigma)
        if kind is AnomalyKind.SPIKE and i == anomaly_start:
            value = level + 12.0 * noise
        values.append(value)
    return SyntheticSeries(values=tuple(values), anomaly_start=anomaly_start, kind=kind)
