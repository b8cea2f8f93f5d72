"""A seeded, NAB-shaped labelled corpus of synthetic metric series, for checks beyond real data.

Each file mixes one normal behaviour (steady noise, a daily cycle, bursty on/off load, a slowly
wandering level, heavy-tailed noise, quantised CPU-like values) with zero to two injected
anomalies after the learning rows (spike, dip, level shift, variance burst, ramp, stuck value,
new oscillation). Windows follow NAB's convention: 10 % of the file's rows shared among its
anomalies, each window centred on its anomaly.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from anomaly_detection_model.evaluation.nab_scoring import probation_length

START = datetime(2024, 1, 1)
STEP = timedelta(minutes=5)
DAY = 288


def _steady(rng: random.Random, n: int) -> tuple[list[float], float]:
    level, sigma = rng.uniform(10, 80), rng.uniform(0.5, 4)
    return [level + rng.gauss(0, sigma) for _ in range(n)], sigma


def _daily(rng: random.Random, n: int) -> tuple[list[float], float]:
    level, amplitude, sigma = rng.uniform(100, 400), rng.uniform(30, 90), rng.uniform(3, 12)
    phase = rng.uniform(0, 2 * math.pi)
    values = [level + amplitude * math.sin(2 * math.pi * i / DAY + phase) + rng.gauss(0, sigma) for i in range(n)]
    return values, sigma


def _bursty(rng: random.Random, n: int) -> tuple[list[float], float]:
    values, busy = [], False
    height = rng.uniform(1e6, 5e6)
    for _ in range(n):
        busy = rng.random() < (0.85 if busy else 0.01)
        values.append(max(0.0, rng.gauss(height, height * 0.3)) if busy else abs(rng.gauss(0, height * 0.002)))
    return values, height * 0.3


def _wandering(rng: random.Random, n: int) -> tuple[list[float], float]:
    level, sigma, values = 50.0, rng.uniform(0.3, 1.0), []
    drift = 0.0
    for _ in range(n):
        drift = 0.995 * drift + rng.gauss(0, 0.02)
        level += drift
        values.append(level + rng.gauss(0, sigma))
    return values, sigma


def _heavy_tailed(rng: random.Random, n: int) -> tuple[list[float], float]:
    scale = rng.uniform(10, 100)
    return [scale * rng.lognormvariate(0, 0.6) for _ in range(n)], scale * 0.6


def _quantised(rng: random.Random, n: int) -> tuple[list[float], float]:
    level = rng.uniform(0.1, 5)
    return [round(level + abs(rng.gauss(0, 0.02 * level)), 3) for _ in range(n)], 0.02 * level


NORMAL_BEHAVIOURS: dict[str, Callable[[random.Random, int], tuple[list[float], float]]] = {
    "steady": _steady,
    "daily": _daily,
    "bursty": _bursty,
    "wandering": _wandering,
    "heavy_tailed": _heavy_tailed,
    "quantised": _quantised,
}
ANOMALIES = ("spike", "dip", "level_shift", "variance_burst", "ramp", "stuck", "oscillation")


def _inject(kind: str, values: list[float], at: int, sigma: float, rng: random.Random) -> None:
    n = len(values)
    spread = max(sigma, 1e-9)
    high = max(values[:at])
    if kind == "spike":
        values[at] = high + rng.uniform(0.5, 2.0) * (high - min(values[:at]) + spread)
    elif kind == "dip":
        low = min(values[:at])
        values[at] = low - rng.uniform(0.5, 2.0) * (high - low + spread)
    elif kind == "level_shift":
        shift = rng.choice((-1, 1)) * rng.uniform(6, 12) * spread
        for i in range(at, n):
            values[i] += shift
    elif kind == "variance_burst":
        for i in range(at, min(n, at + 60)):
            values[i] += rng.gauss(0, 6 * spread)
    elif kind == "ramp":
        for i in range(at, n):
            values[i] += 0.15 * spread * (i - at)
    elif kind == "stuck":
        stuck = values[at]
        for i in range(at, min(n, at + 150)):
            values[i] = stuck
    elif kind == "oscillation":
        for i in range(at, min(n, at + 120)):
            values[i] += (5 if i % 6 < 3 else -5) * spread


@dataclass(frozen=True)
class SyntheticFile:
    name: str
    values: tuple[float, ...]
    anomaly_rows: tuple[int, ...]
    windows: tuple[tuple[int, int], ...]


def make_corpus(files: int = 24, rows: int = 4000, seed: int = 2024) -> list[SyntheticFile]:
    """Files cycling through the normal behaviours; most carry one or two anomalies, some none."""
    rng = random.Random(seed)
    behaviours = list(NORMAL_BEHAVIOURS)
    corpus: list[SyntheticFile] = []
    for index in range(files):
        behaviour = behaviours[index % len(behaviours)]
        values, sigma = NORMAL_BEHAVIOURS[behaviour](rng, rows)
        count = rng.choice((0, 1, 1, 2, 2))
        learning = probation_length(rows)
        width = int(0.1 * rows / count) if count else 0
        slots = sorted(rng.sample(range(learning + width, rows - width, max(1, width)), count)) if count else []
        kinds = [rng.choice(ANOMALIES) for _ in slots]
        for kind, at in zip(kinds, slots, strict=True):
            _inject(kind, values, at, sigma, rng)
        windows = tuple((at - width // 2, at + width // 2 - 1) for at in slots)
        name = f"{index:02d}_{behaviour}_{'_'.join(kinds) or 'none'}.csv"
        corpus.append(SyntheticFile(name, tuple(values), tuple(slots), windows))
    return corpus


def write_corpus(folder: Path, corpus: list[SyntheticFile]) -> None:
    """Write the files as `timestamp,value` CSVs plus `labels.json` in NAB's layout."""
    folder.mkdir(parents=True, exist_ok=True)
    labels: dict[str, dict[str, list[object]]] = {}

    def stamp(row: int) -> str:
        return (START + row * STEP).strftime("%Y-%m-%d %H:%M:%S")

    for item in corpus:
        lines = ["timestamp,value"] + [f"{stamp(i)},{value:.6g}" for i, value in enumerate(item.values)]
        (folder / item.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        labels[item.name] = {
            "anomaly_windows": [[stamp(a), stamp(b)] for a, b in item.windows],
            "anomaly_points": [stamp(row) for row in item.anomaly_rows],
        }
    (folder / "labels.json").write_text(json.dumps(labels, indent=1), encoding="utf-8")
