"""Streaming univariate anomaly detector (draft)."""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class DetectorParams:
    history: int = 2000
    scales: tuple[int, ...] = (1, 5, 20)
    warmup: int = 100
    tolerance: float = 0.1
    score_decades: float = 10.0
    alert_level: float = 0.5
    refractory: int = 0
    damping: float = 0.0
    lag: int = 0
    lag_factor: float = 1.0
    peak_decay: float = 0.99


class StreamingDetector:
    def __init__(self, params: DetectorParams | None = None) -> None:
        self.params = params or DetectorParams()
        p = self.params
        self._seen = 0
        self._recent: deque[float] = deque(maxlen=max(p.scales))
        self._sorted: list[list[float]] = [[] for _ in p.scales]
        self._arrivals: list[deque[float]] = [deque() for _ in p.scales]
        self._pending: list[deque[float]] = [deque() for _ in p.scales]
        self._since_alert = 1 << 30
        self._peak = 0.0

    def update(self, value: float) -> float:
        p = self.params
        recent = self._recent
        recent.append(value)
        self._seen += 1
        best = 1.0
        for index, k in enumerate(p.scales):
            if len(recent) < k:
                continue
            m = value if k == 1 else sum(list(recent)[-k:]) / k
            s = self._sorted[index]
            n = len(s)
            if n:
                lo = bisect_right(s, m)
                hi = n - bisect_left(s, m)
                c = lo if lo < hi else hi
                if c:
                    tail = (c + 1) / (n + 1)
                else:
                    rng = s[-1] - s[0]
                    excess = (m - s[-1]) if lo == n else (s[0] - m)
                    scale = p.tolerance * rng + 1e-12 * (abs(m) + 1.0)
                    tail = math.exp(-excess / scale) / (n + 1)
                if tail < best:
                    best = tail
            pending = self._pending[index]
            pending.append(m)
            if len(pending) <= p.lag + int(p.lag_factor * k):
                continue
            m = pending.popleft()
            insort(s, m)
            arrivals = self._arrivals[index]
            arrivals.append(m)
            if len(arrivals) > p.history:
                del s[bisect_left(s, arrivals.popleft())]
        if self._seen <= p.warmup:
            return 0.0
        score = -math.log10(best + 1e-300) / p.score_decades
        if score > 1.0:
            score = 1.0
        if p.peak_decay:
            previous = self._peak * p.peak_decay
            if score <= previous:
                self._peak = previous
                return score * p.damping
            self._peak = score
            return score
        self._since_alert += 1
        if self._since_alert <= p.refractory:
            score *= p.damping
        elif score >= p.alert_level:
            self._since_alert = 0
        return score


def score_series(values: Iterable[float], params: DetectorParams | None = None) -> list[float]:
    detector = StreamingDetector(params)
    return [detector.update(v) for v in values]
