"""Streaming univariate anomaly detector: multi-scale empirical tail probabilities, no look-ahead.

For every row the detector asks, at a few time scales, "how unusual is the recent level compared
with everything this series has done before?" and turns the most unusual answer into a score:

1. Scale statistics. For each scale k in `scales` the statistic is the mean of the last k values
   (k = 1 is the value itself). Short scales catch spikes, longer ones catch level shifts and
   drifts that hide in point-to-point noise.
2. Reference distribution. Each scale keeps its last `history` statistics in sorted order. A
   statistic joins the reference only k rows after it was computed, so the current mean is never
   compared with means that overlap it (which would let a shift mask itself).
3. Tail probability. Inside the reference range the tail is the empirical rank,
   (min(#<=m, #>=m) + 1) / (n + 1). Beyond the range it keeps shrinking by a factor e for every
   `tolerance` x (reference range) of excess, so a value far outside everything seen is far more
   surprising than one that just touches a new maximum.
4. Volatility. The mean absolute step over the last `volatility_rows` rows is ranked the same way
   against its own history, upper tail only, with the gentler `volatility_tolerance` beyond the
   range: a series that starts to oscillate or jitter far more than it ever has is anomalous even
   while every value stays inside the usual range.
5. Stuck values. A metric that repeats the exact same value for longer than it ever has (a dead
   agent, a frozen exporter) is anomalous even when the value itself is ordinary. The current
   run of repeats is compared with the runs that ended within the history: once it is
   `stuck_rows` rows longer than the longest of them, its tail shrinks by a factor e per
   `tolerance` x (that longest run, at least 1) further rows.
6. Score. p = the smallest tail over the scales, volatility and the stuck check;
   score = min(1, -log10(p) / score_decades).
   A score of 0.4 means p = 1e-4; the score is comparable between series of any unit or shape.
7. One alert per event. The detector tracks the recent peak score, decaying by `peak_decay` per
   row. A row reports its score only if it beats that peak and the peak is below `alert_level`;
   otherwise it reports 0. After an alert the detector stays quiet until the peak has decayed
   below the alert level, and an escalating event extends the quiet period instead of alerting
   again. `score >= alert_level` is the detector's own alert rule.

The first `warmup` rows score 0 while the references fill. Work per row is O(log history) search
plus an O(history) memmove in C per scale, all on plain Python floats.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class DetectorParams:
    """One parameter set used for every series."""

    scales: tuple[int, ...] = (1, 5, 20)
    history: int = 4000
    warmup: int = 100
    tolerance: float = 0.1
    score_decades: float = 10.0
    peak_decay: float = 0.99
    alert_level: float = 0.4
    stuck_rows: int = 10
    volatility_rows: int = 30
    volatility_tolerance: float = 0.3

    def __post_init__(self) -> None:
        if not self.scales or any(k < 1 for k in self.scales):
            raise ValueError("scales must be positive window lengths")
        if self.history < 1 or self.warmup < 0:
            raise ValueError("history must be >= 1 and warmup >= 0")
        if self.tolerance <= 0 or self.score_decades <= 0 or not 0 <= self.peak_decay < 1:
            raise ValueError("tolerance and score_decades must be > 0, peak_decay in [0, 1)")
        if not 0 < self.alert_level <= 1:
            raise ValueError("alert_level must be in (0, 1]")
        if self.stuck_rows < 0 or self.volatility_rows < 0:
            raise ValueError("stuck_rows and volatility_rows must be >= 0 (0 turns the check off)")
        if self.volatility_tolerance <= 0:
            raise ValueError("volatility_tolerance must be > 0")


class _Scale:
    """Trailing mean of length k of one input (values or absolute steps) and its sorted reference."""

    __slots__ = ("arrivals", "k", "pending", "reference", "rows_since_exact", "total", "two_sided", "window")

    def __init__(self, k: int, two_sided: bool) -> None:
        self.k = k
        self.two_sided = two_sided
        self.total = 0.0
        self.rows_since_exact = 0
        self.window: deque[float] = deque()
        self.pending: deque[float] = deque()
        self.arrivals: deque[float] = deque()
        self.reference: list[float] = []


class StreamingDetector:
    """Feed values one at a time with `update`; each call returns that row's score in [0, 1]."""

    def __init__(self, params: DetectorParams | None = None) -> None:
        self.params = params or DetectorParams()
        self._level_scales = [_Scale(k, two_sided=True) for k in self.params.scales]
        self._step_scales = (
            [_Scale(self.params.volatility_rows, two_sided=False)] if self.params.volatility_rows else []
        )
        self._rows = 0
        self._peak = 0.0
        self._previous_value: float | None = None
        self._repeats = 0
        self._finished_runs: list[int] = []
        self._run_ends: deque[tuple[int, int]] = deque()

    def update(self, value: float) -> float:
        """Score one value using only this and earlier values, then learn from it."""
        if not -math.inf < value < math.inf:
            raise ValueError(f"value must be a finite number, got {value!r}")
        params = self.params
        self._rows += 1
        rows = self._rows
        tail = self._scales_tail(self._level_scales, value, params.tolerance)
        previous = self._previous_value
        if self._step_scales and previous is not None:
            step_tail = self._scales_tail(self._step_scales, abs(value - previous), params.volatility_tolerance)
            if step_tail < tail:
                tail = step_tail
        if params.stuck_rows:
            stuck_tail = self._stuck_tail(value, rows)
            if stuck_tail < tail:
                tail = stuck_tail
        self._previous_value = value
        if rows <= params.warmup:
            return 0.0
        score = -math.log10(tail) / params.score_decades if tail > 0.0 else 1.0
        if score > 1.0:
            score = 1.0
        previous_peak = self._peak * params.peak_decay
        if score <= previous_peak or previous_peak >= params.alert_level:
            self._peak = score if score > previous_peak else previous_peak
            return 0.0
        self._peak = score
        return score

    def _scales_tail(self, scales: list[_Scale], x: float, tolerance: float) -> float:
        """Smallest tail probability of the trailing means of `x` against their references."""
        history = self.params.history
        tail = 1.0
        for scale in scales:
            k = scale.k
            if k == 1:
                level = x
            else:
                window = scale.window
                window.append(x)
                scale.total += x
                if len(window) > k:
                    scale.total -= window.popleft()
                scale.rows_since_exact += 1
                if scale.rows_since_exact >= 4 * k:
                    scale.total = math.fsum(window)
                    scale.rows_since_exact = 0
                if len(window) < k:
                    continue
                level = scale.total / k
            reference = scale.reference
            size = len(reference)
            if size:
                above = size - bisect_left(reference, level)
                count = above
                if scale.two_sided:
                    below = bisect_right(reference, level)
                    if below < above:
                        count = below
                if count:
                    scale_tail = (count + 1) / (size + 1)
                else:
                    low, high = reference[0], reference[-1]
                    excess = level - high if above == 0 else low - level
                    unit = tolerance * (high - low) + 1e-12 * (abs(level) + 1.0)
                    scale_tail = math.exp(-excess / unit) / (size + 1)
                if scale_tail < tail:
                    tail = scale_tail
            pending = scale.pending
            pending.append(level)
            if len(pending) > k:
                settled = pending.popleft()
                insort(reference, settled)
                arrivals = scale.arrivals
                arrivals.append(settled)
                if len(arrivals) > history:
                    del reference[bisect_left(reference, arrivals.popleft())]
        return tail

    def _stuck_tail(self, value: float, rows: int) -> float:
        """Tail probability of the current run of repeated values among the runs in the history."""
        runs = self._finished_runs
        ends = self._run_ends
        if value == self._previous_value:
            self._repeats += 1
        else:
            if self._repeats:
                insort(runs, self._repeats)
                ends.append((rows - 1, self._repeats))
            self._repeats = 0
        history = self.params.history
        while ends and ends[0][0] <= rows - history:
            del runs[bisect_left(runs, ends.popleft()[1])]
        repeats = self._repeats
        if not repeats or rows - repeats <= self.params.warmup:
            return 1.0  # not repeating, or repeating since the warm-up: that is the series' normal
        size = min(rows - 1, history)
        longer = len(runs) - bisect_left(runs, repeats)
        if longer:
            return (longer + 1) / (size + 1)
        longest = runs[-1] if runs else 0
        if repeats < longest + self.params.stuck_rows:
            return 1.0
        unit = max(self.params.tolerance * longest, 1.0)
        return math.exp(-(repeats - longest) / unit) / (size + 1)


def score_series(values: Iterable[float], params: DetectorParams | None = None) -> list[float]:
    """Scores for a whole series, exactly as a stream would produce them row by row."""
    detector = StreamingDetector(params)
    update = detector.update
    return [update(value) for value in values]
