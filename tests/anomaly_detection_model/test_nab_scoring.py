"""NAB-style window scoring on tiny cases that can be worked out by hand.

In a 20-row file the probationary period is floor(0.15 * 20) = 3 rows. NAB's scaled sigmoid is
S(x) = 2 / (1 + exp(5x)) - 1 = tanh(-5x / 2), so the expected values below are written as tanh().
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anomaly_detection_model.evaluation.nab_scoring import (
    NO_DETECTION,
    STANDARD_PROFILE,
    WindowSpan,
    best_threshold,
    normalised_score,
    prepare_file,
    probation_length,
    scaled_sigmoid,
    score_file,
    sweep_thresholds,
    window_spans,
)

WINDOW = WindowSpan(first_row=10, last_row=14)  # width 5
FP = STANDARD_PROFILE.fp_weight


def _detections(rows: list[int], length: int = 20) -> list[float]:
    return [1.0 if i in rows else 0.0 for i in range(length)]


def _score(rows: list[int]) -> float:
    prepared = prepare_file("tiny.csv", 20, [WINDOW])
    return score_file(prepared, _detections(rows), threshold=0.5).raw_score


def test_probation_is_fifteen_percent_capped_at_750() -> None:
    assert probation_length(20) == 3
    assert probation_length(4032) == 604
    assert probation_length(10_000) == 750


def test_scaled_sigmoid_matches_nab_reference_points() -> None:
    assert scaled_sigmoid(-1.0) == pytest.approx(0.98661, abs=1e-5)
    assert scaled_sigmoid(-0.5) == pytest.approx(0.84828, abs=1e-5)
    assert scaled_sigmoid(0.0) == pytest.approx(0.0)
    assert scaled_sigmoid(1.0) == pytest.approx(-0.98661, abs=1e-5)
    assert scaled_sigmoid(3.0) == -1.0


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([], -1.0),
        ([10], 1.0),
        ([12], math.tanh(1.5) / math.tanh(2.5)),
        ([14], math.tanh(0.5) / math.tanh(2.5)),
        ([12, 10, 11, 14], 1.0),
        ([13, 14], math.tanh(1.0) / math.tanh(2.5)),
        ([1], -1.0),
        ([5], -1.0 - FP),
        ([16], -1.0 + FP * math.tanh(-1.25)),
        ([19], -1.0 + FP * math.tanh(-5 * 1.25 / 2)),
        ([10, 5, 19], 1.0 - FP + FP * math.tanh(-5 * 1.25 / 2)),
    ],
)
def test_one_file_scores(rows: list[int], expected: float) -> None:
    assert _score(rows) == pytest.approx(expected, abs=1e-12)


def test_counts_and_delay() -> None:
    prepared = prepare_file("tiny.csv", 20, [WINDOW])
    outcome = score_file(prepared, _detections([5, 12, 13, 16, 17]), threshold=0.5)
    assert (outcome.windows, outcome.hits, outcome.misses, outcome.false_positives) == (1, 1, 0, 3)
    assert outcome.detection_delays == (2,)
    assert (outcome.null_score, outcome.perfect_score) == (-1.0, 1.0)


def test_far_false_positive_costs_the_full_weight() -> None:
    prepared = prepare_file("long.csv", 40, [WindowSpan(8, 12)])  # probation 6, width 5
    outcome = score_file(prepared, _detections([8, 24], length=40), threshold=0.5)
    assert outcome.raw_score == pytest.approx(1.0 - FP)


def test_window_inside_probation_is_not_scored() -> None:
    prepared = prepare_file("early.csv", 20, [WindowSpan(0, 2), WINDOW])
    assert prepared.window_count == 1


def test_detections_use_greater_or_equal() -> None:
    prepared = prepare_file("tiny.csv", 20, [WINDOW])
    scores = [0.0] * 20
    scores[10] = 0.7
    assert score_file(prepared, scores, threshold=0.7).hits == 1
    assert score_file(prepared, scores, threshold=0.7000001).hits == 0


def test_normalisation_between_null_and_perfect() -> None:
    assert normalised_score(-1.0, null=-1.0, perfect=1.0) == 0.0
    assert normalised_score(1.0, null=-1.0, perfect=1.0) == 100.0
    assert normalised_score(0.0, null=-2.0, perfect=2.0) == 50.0


def test_window_spans_from_timestamps() -> None:
    start = datetime(2024, 1, 1)
    times = [start + timedelta(minutes=5 * i) for i in range(10)]
    spans = window_spans(times, [(times[3], times[5]), (times[8] + timedelta(minutes=1), times[9])])
    assert spans == [WindowSpan(3, 5), WindowSpan(9, 9)]
    with pytest.raises(ValueError, match="overlap"):
        window_spans(times, [(times[1], times[4]), (times[3], times[6])])


def test_one_threshold_is_chosen_for_all_files_jointly() -> None:
    first = prepare_file("a.csv", 20, [WINDOW])
    second = prepare_file("b.csv", 20, [])
    # 0.9 catches a's window at its start; 0.6 adds a distant false positive in b; 0.3 adds two more in a.
    scores_a = [0.0] * 20
    scores_a[10], scores_a[4], scores_a[18] = 0.9, 0.3, 0.3
    scores_b = [0.0] * 20
    scores_b[7] = 0.6
    threshold, total = best_threshold([first, second], [scores_a, scores_b])
    assert threshold == 0.9
    assert total == pytest.approx(1.0)
    sweep = dict(sweep_thresholds([first, second], [scores_a, scores_b]))
    assert sweep[NO_DETECTION] == pytest.approx(-1.0)
    assert sweep[0.6] == pytest.approx(1.0 - FP)


@settings(max_examples=60, deadline=None)
@given(
    scores=st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]), min_size=60, max_size=60),
    first=st.integers(min_value=0, max_value=40),
    width=st.integers(min_value=1, max_value=15),
)
def test_sweep_agrees_with_scoring_each_threshold(scores: list[float], first: int, width: int) -> None:
    prepared = prepare_file("random.csv", 60, [WindowSpan(first, min(first + width - 1, 59))])
    for threshold, total in sweep_thresholds([prepared], [scores]):
        assert total == pytest.approx(score_file(prepared, scores, threshold).raw_score, abs=1e-9)
