"""The streaming detector: no look-ahead, scores in [0, 1], detects injected anomalies, quiet on noise."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anomaly_detection_model.streaming.detector import DetectorParams, StreamingDetector, score_series
from anomaly_detection_model.streaming.synthetic import AnomalyKind, make_series

SMALL = DetectorParams(history=50, warmup=5)
finite_values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=150, deadline=None)
@given(
    prefix=st.lists(finite_values, min_size=1, max_size=120),
    tail_a=st.lists(finite_values, min_size=0, max_size=40),
    tail_b=st.lists(finite_values, min_size=0, max_size=40),
)
def test_scores_up_to_t_do_not_depend_on_later_rows(
    prefix: list[float], tail_a: list[float], tail_b: list[float]
) -> None:
    for params in (SMALL, DetectorParams()):
        scores_a = score_series(prefix + tail_a, params)
        scores_b = score_series(prefix + tail_b, params)
        assert scores_a[: len(prefix)] == scores_b[: len(prefix)]


def test_no_look_ahead_on_a_real_length_series() -> None:
    base = make_series(3000, seed=3).values
    changed = base[:2000] + make_series(1000, seed=4, kind=AnomalyKind.LEVEL_SHIFT, anomaly_start=10).values
    assert score_series(base)[:2000] == score_series(changed)[:2000]


@settings(max_examples=100, deadline=None)
@given(values=st.lists(finite_values, min_size=1, max_size=200))
def test_scores_are_in_unit_interval(values: list[float]) -> None:
    assert all(0.0 <= score <= 1.0 for score in score_series(values, SMALL))


def test_streaming_update_matches_batch_scoring() -> None:
    values = make_series(800, seed=11, kind=AnomalyKind.SPIKE, anomaly_start=600).values
    detector = StreamingDetector()
    assert [detector.update(v) for v in values] == score_series(values)


def test_warmup_rows_score_zero() -> None:
    scores = score_series(make_series(300, seed=1).values)
    assert scores[: DetectorParams().warmup] == [0.0] * DetectorParams().warmup


def test_constant_series_is_quiet_and_a_change_is_flagged() -> None:
    values = [5.0] * 600 + [5.5] + [5.0] * 10
    scores = score_series(values)
    assert max(scores[:600]) < 0.1
    assert scores[600] == max(scores)
    assert scores[600] > 0.9


def test_huge_and_tiny_magnitudes_are_handled() -> None:
    for scale in (1e-9, 1e12):
        values = [scale * v for v in make_series(1200, seed=5, kind=AnomalyKind.SPIKE, anomaly_start=1000).values]
        scores = score_series(values)
        assert all(math.isfinite(s) and 0.0 <= s <= 1.0 for s in scores)
        assert max(range(len(scores)), key=scores.__getitem__) == 1000


ALERT_LEVEL = DetectorParams().alert_level


LEARNING_ROWS = 600


def test_clean_noise_rarely_reaches_the_alert_level() -> None:
    # A new record value in pure noise is mildly surprising; alerts must stay rare (here at most
    # one per 10,000 rows) and never strong.
    alerts = 0
    scored_rows = 0
    for seed in range(4):
        for daily_amplitude in (0.0, 6.0):
            scores = score_series(make_series(4000, seed=seed, daily_amplitude=daily_amplitude).values)
            alerts += sum(score >= ALERT_LEVEL for score in scores[LEARNING_ROWS:])
            scored_rows += len(scores) - LEARNING_ROWS
            assert max(scores[LEARNING_ROWS:]) < ALERT_LEVEL + 0.05
    assert alerts <= scored_rows / 10_000


@pytest.mark.parametrize("kind", list(AnomalyKind))
@pytest.mark.parametrize("seed", range(3))
def test_injected_anomalies_are_flagged_promptly(kind: AnomalyKind, seed: int) -> None:
    start = 2500
    series = make_series(3500, seed=seed, kind=kind, anomaly_start=start, daily_amplitude=3.0)
    scores = score_series(series.values)
    first_alert = next(i for i in range(LEARNING_ROWS, len(scores)) if scores[i] >= ALERT_LEVEL)
    allowed_delay = 60 if kind is AnomalyKind.DRIFT else 10
    assert start <= first_alert < start + allowed_delay


def test_a_persistent_shift_raises_one_alert_and_a_later_event_raises_another() -> None:
    shifted = make_series(3000, seed=9, kind=AnomalyKind.LEVEL_SHIFT, anomaly_start=2000).values
    values = list(shifted)
    values[2800] += 400.0
    scores = score_series(values)
    alerts = [i for i, score in enumerate(scores) if score >= ALERT_LEVEL]
    assert alerts == [alerts[0], 2800]
    assert 2000 <= alerts[0] < 2010
    assert all(score == 0.0 for score in scores[alerts[0] + 1 : alerts[0] + 50])


@pytest.mark.parametrize(
    "bad",
    [
        {"scales": ()},
        {"scales": (0, 5)},
        {"history": 0},
        {"warmup": -1},
        {"tolerance": 0.0},
        {"peak_decay": 1.0},
        {"alert_level": 0.0},
        {"stuck_rows": -1},
        {"volatility_rows": -1},
        {"volatility_tolerance": 0.0},
    ],
)
def test_invalid_parameters_are_rejected(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        DetectorParams(**bad)  # type: ignore[arg-type]


def test_a_value_stuck_longer_than_ever_before_is_flagged() -> None:
    values = list(make_series(2000, seed=13, daily_amplitude=6.0).values)
    stuck_from = 1500
    for i in range(stuck_from, 1700):
        values[i] = values[stuck_from]
    scores = score_series(values)
    alerts = [i for i, score in enumerate(scores) if score >= ALERT_LEVEL and i >= LEARNING_ROWS]
    assert alerts
    assert stuck_from + DetectorParams().stuck_rows <= alerts[0] <= stuck_from + 2 * DetectorParams().stuck_rows
    unchecked = score_series(values, DetectorParams(stuck_rows=0))
    assert max(unchecked[stuck_from:1700]) < ALERT_LEVEL


def test_series_that_often_repeat_values_are_not_flagged_for_usual_runs() -> None:
    # An idle-then-busy metric: runs of zeros up to 60 rows long are normal for it.
    values: list[float] = []
    pattern = make_series(4000, seed=17).values
    for i in range(4000):
        values.append(0.0 if (i // 60) % 3 == 0 else pattern[i])
    scores = score_series(values)
    assert max(scores[LEARNING_ROWS:]) < ALERT_LEVEL


def test_a_new_oscillation_inside_the_usual_range_is_flagged_by_volatility() -> None:
    values = list(make_series(2200, seed=31).values)
    for i in range(1800, 2200):
        values[i] += 5.0 if (i // 3) % 2 else -5.0
    alerts = [i for i, s in enumerate(score_series(values)) if s >= ALERT_LEVEL and i >= LEARNING_ROWS]
    assert alerts
    assert 1800 <= alerts[0] < 1840
    without = score_series(values, DetectorParams(volatility_rows=0))
    assert max(without[LEARNING_ROWS:]) < ALERT_LEVEL


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_values_are_rejected(bad: float) -> None:
    detector = StreamingDetector()
    detector.update(1.0)
    with pytest.raises(ValueError, match="finite"):
        detector.update(bad)


@pytest.mark.parametrize(("scale", "offset"), [(1e6, 5.0), (1e-3, -7.0), (-2.0, 100.0)])
def test_scores_do_not_depend_on_units_or_sign(scale: float, offset: float) -> None:
    # Ranks, range-relative tolerances and absolute steps make the scores affine-invariant,
    # so bytes, percentages and counts need no per-series settings.
    values = make_series(3000, seed=3, kind=AnomalyKind.LEVEL_SHIFT, anomaly_start=2500, daily_amplitude=4.0).values
    original = score_series(values)
    transformed = score_series([scale * v + offset for v in values])
    assert transformed == pytest.approx(original, abs=1e-6)
    assert max(original) >= ALERT_LEVEL
