"""Window-based scoring in the way of the Numenta Anomaly Benchmark (NAB).

The rules, as NAB's scorer and threshold sweeper apply them:

* A file's first ``min(floor(0.15 * N), 750)`` rows are probationary: neither detections nor
  window rows there are scored.
* A row is a detection when its anomaly score is ``>= threshold``.
* Each labelled window counts once: its earliest detection earns
  ``A_TP * S(-(end - i + 1) / width) / S(-1)`` where ``S(x) = 2 * sigmoid(-5x) - 1`` (so a
  detection on the window's first row earns ``A_TP`` and one on its last row about nothing);
  later detections in the same window earn nothing more. A window with no detection costs ``A_FN``.
* Every detection outside a window costs ``A_FP * S(d)`` with ``d = (i - end_prev) / (width_prev - 1)``
  measured from the end of the closest preceding window (``S`` is taken as -1 from ``d >= 3``), or
  the full ``A_FP`` when no window precedes it.
* One threshold per detector is chosen to maximise the summed raw score over all files jointly,
  and the total is normalised to 100 * (raw - null) / (perfect - null), where the null detector
  detects nothing and the perfect one detects every window on its first row.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

PROBATION_FRACTION = 0.15
PROBATION_CAP = 750
NO_DETECTION = math.inf


@dataclass(frozen=True)
class CostProfile:
    """Weights of NAB's application profiles (the signs are applied by the scorer)."""

    name: str
    tp_weight: float
    fp_weight: float
    fn_weight: float


STANDARD_PROFILE = CostProfile(name="standard", tp_weight=1.0, fp_weight=0.11, fn_weight=1.0)
REWARD_LOW_FP_PROFILE = CostProfile(name="reward_low_FP", tp_weight=1.0, fp_weight=0.22, fn_weight=1.0)
REWARD_LOW_FN_PROFILE = CostProfile(name="reward_low_FN", tp_weight=1.0, fp_weight=0.11, fn_weight=2.0)


def probation_length(row_count: int) -> int:
    """Rows at the start of a file that are for learning only and are not scored."""
    return min(math.floor(PROBATION_FRACTION * row_count), PROBATION_CAP)


def scaled_sigmoid(position: float) -> float:
    """NAB's S(x) = 2 / (1 + exp(5x)) - 1: +0.987 at x = -1, 0 at x = 0, -0.987 at x = 1, -1 from 3."""
    if position >= 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * position)) - 1.0


_MAX_TP = scaled_sigmoid(-1.0)


@dataclass(frozen=True)
class WindowSpan:
    """A labelled anomaly window as inclusive row indices."""

    first_row: int
    last_row: int

    @property
    def width(self) -> int:
        return self.last_row - self.first_row + 1


def window_spans(times: Sequence[datetime], windows: Sequence[tuple[datetime, datetime]]) -> list[WindowSpan]:
    """Map [start, end] timestamp windows to the rows whose time lies inside them (empty ones dropped)."""
    spans: list[WindowSpan] = []
    for start, end in sorted(windows):
        if end < start:
            raise ValueError(f"window ends before it starts: {start} .. {end}")
        rows = [i for i, stamp in enumerate(times) if start <= stamp <= end]
        if rows:
            spans.append(WindowSpan(rows[0], rows[-1]))
    for earlier, later in itertools.pairwise(spans):
        if later.first_row <= earlier.last_row:
            raise ValueError("labelled windows overlap")
    return spans


@dataclass(frozen=True)
class ScorableFile:
    """One file prepared for scoring: each scorable row's window (or None) and its NAB weight."""

    name: str
    row_count: int
    probation: int
    spans: tuple[WindowSpan, ...]
    row_window: tuple[int | None, ...]
    row_weight: tuple[float, ...]
    best_credit: tuple[float, ...]

    @property
    def window_count(self) -> int:
        return len(self.spans)


def prepare_file(
    name: str, row_count: int, spans: Sequence[WindowSpan], profile: CostProfile = STANDARD_PROFILE
) -> ScorableFile:
    """Precompute, for every row, the credit (inside a window) or penalty (outside) a detection earns."""
    probation = probation_length(row_count)
    scored_spans = tuple(span for span in spans if span.last_row >= probation)
    row_window: list[int | None] = [None] * row_count
    row_weight: list[float] = [0.0] * row_count
    previous: WindowSpan | None = None
    span_iter = iter(enumerate(scored_spans))
    upcoming = next(span_iter, None)
    for i in range(row_count):
        if upcoming is not None and i == upcoming[1].first_row:
            current_index, current = upcoming
            for j in range(current.first_row, current.last_row + 1):
                position = -(current.last_row - j + 1) / current.width
                row_window[j] = current_index
                row_weight[j] = profile.tp_weight * scaled_sigmoid(position) / _MAX_TP
            previous = current
            upcoming = next(span_iter, None)
        if row_window[i] is not None:
            continue
        if previous is None:
            row_weight[i] = -profile.fp_weight
        else:
            distance = i - previous.last_row
            position = distance / (previous.width - 1) if previous.width > 1 else math.inf
            row_weight[i] = profile.fp_weight * scaled_sigmoid(position)
    best_credit = tuple(row_weight[max(span.first_row, probation)] for span in scored_spans)
    return ScorableFile(
        name=name,
        row_count=row_count,
        probation=probation,
        spans=scored_spans,
        row_window=tuple(row_window),
        row_weight=tuple(row_weight),
        best_credit=best_credit,
    )


@dataclass(frozen=True)
class FileOutcome:
    """How a detector did on one file at one threshold."""

    name: str
    raw_score: float
    null_score: float
    perfect_score: float
    spans: tuple[WindowSpan, ...]
    first_detections: tuple[int | None, ...]
    false_positives: int

    @property
    def windows(self) -> int:
        return len(self.spans)

    @property
    def hits(self) -> int:
        return sum(row is not None for row in self.first_detections)

    @property
    def misses(self) -> int:
        return self.windows - self.hits

    @property
    def detection_delays(self) -> tuple[int, ...]:
        """Rows from each detected window's first row to its first detection."""
        return tuple(
            row - span.first_row for span, row in zip(self.spans, self.first_detections, strict=True) if row is not None
        )


def score_file(
    prepared: ScorableFile, scores: Sequence[float], threshold: float, profile: CostProfile = STANDARD_PROFILE
) -> FileOutcome:
    """Score one file's anomaly scores at a fixed threshold (detections are scores >= threshold)."""
    if len(scores) != prepared.row_count:
        raise ValueError(f"{prepared.name}: {len(scores)} scores for {prepared.row_count} rows")
    first_detection: dict[int, int] = {}
    fp_total = 0.0
    false_positives = 0
    for i in range(prepared.probation, prepared.row_count):
        if scores[i] < threshold:
            continue
        window = prepared.row_window[i]
        if window is None:
            fp_total += prepared.row_weight[i]
            false_positives += 1
        elif window not in first_detection:
            first_detection[window] = i
    raw = fp_total
    for index in range(prepared.window_count):
        if index in first_detection:
            raw += prepared.row_weight[first_detection[index]]
        else:
            raw -= profile.fn_weight
    return FileOutcome(
        name=prepared.name,
        raw_score=raw,
        null_score=-profile.fn_weight * prepared.window_count,
        perfect_score=sum(prepared.best_credit),
        spans=prepared.spans,
        first_detections=tuple(first_detection.get(index) for index in range(prepared.window_count)),
        false_positives=false_positives,
    )


def sweep_thresholds(
    files: Sequence[ScorableFile], scores: Sequence[Sequence[float]], profile: CostProfile = STANDARD_PROFILE
) -> list[tuple[float, float]]:
    """Summed raw score over all files for every distinct threshold, highest threshold first.

    The first entry is the threshold above every score (no detections: the null score).
    """
    points: list[tuple[float, int, int]] = []
    for file_index, (prepared, file_scores) in enumerate(zip(files, scores, strict=True)):
        if len(file_scores) != prepared.row_count:
            raise ValueError(f"{prepared.name}: {len(file_scores)} scores for {prepared.row_count} rows")
        points.extend((file_scores[i], file_index, i) for i in range(prepared.probation, prepared.row_count))
    points.sort(key=lambda point: point[0], reverse=True)
    window_credit: dict[tuple[int, int], float] = {}
    total = -profile.fn_weight * sum(prepared.window_count for prepared in files)
    results: list[tuple[float, float]] = [(NO_DETECTION, total)]
    for position, (score, file_index, row) in enumerate(points):
        prepared = files[file_index]
        window = prepared.row_window[row]
        weight = prepared.row_weight[row]
        if window is None:
            total += weight
        else:
            key = (file_index, window)
            previous = window_credit.get(key)
            if previous is None:
                total += weight + profile.fn_weight
                window_credit[key] = weight
            elif weight > previous:
                total += weight - previous
                window_credit[key] = weight
        is_last_of_value = position + 1 == len(points) or points[position + 1][0] != score
        if is_last_of_value:
            results.append((score, total))
    return results


def best_threshold(
    files: Sequence[ScorableFile], scores: Sequence[Sequence[float]], profile: CostProfile = STANDARD_PROFILE
) -> tuple[float, float]:
    """The threshold with the highest summed raw score (the highest such threshold on ties)."""
    best = (NO_DETECTION, -math.inf)
    for threshold, total in sweep_thresholds(files, scores, profile):
        if total > best[1]:
            best = (threshold, total)
    return best


def normalised_score(raw: float, null: float, perfect: float) -> float:
    """NAB's 0 (null detector) .. 100 (perfect detector) scale."""
    if perfect == null:
        return 0.0
    return 100.0 * (raw - null) / (perfect - null)
