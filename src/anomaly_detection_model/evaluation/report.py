"""Run detectors over a labelled corpus and report NAB-style results side by side."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from anomaly_detection_model.evaluation.corpus import LabelledSeries
from anomaly_detection_model.evaluation.nab_scoring import (
    REWARD_LOW_FN_PROFILE,
    REWARD_LOW_FP_PROFILE,
    STANDARD_PROFILE,
    CostProfile,
    FileOutcome,
    ScorableFile,
    best_threshold,
    normalised_score,
    prepare_file,
    score_file,
    window_spans,
)

ScoreFunction = Callable[[Sequence[float]], list[float]]
OTHER_PROFILES = (REWARD_LOW_FP_PROFILE, REWARD_LOW_FN_PROFILE)


@dataclass(frozen=True)
class PreparedCorpus:
    """The labelled files and, per cost profile, their rows prepared for scoring."""

    files: tuple[LabelledSeries, ...]
    by_profile: dict[str, tuple[ScorableFile, ...]]

    def scorable(self, profile: CostProfile = STANDARD_PROFILE) -> tuple[ScorableFile, ...]:
        return self.by_profile[profile.name]


def prepare_corpus(corpus: Sequence[LabelledSeries]) -> PreparedCorpus:
    by_profile: dict[str, tuple[ScorableFile, ...]] = {}
    spans = [window_spans(item.series.times, item.windows) for item in corpus]
    for profile in (STANDARD_PROFILE, *OTHER_PROFILES):
        by_profile[profile.name] = tuple(
            prepare_file(item.name, len(item.series), file_spans, profile)
            for item, file_spans in zip(corpus, spans, strict=True)
        )
    return PreparedCorpus(files=tuple(corpus), by_profile=by_profile)


@dataclass(frozen=True)
class DetectorEvaluation:
    """One detector's results over a corpus: threshold, per-file outcomes and summary figures."""

    detector: str
    threshold: float
    outcomes: tuple[FileOutcome, ...]
    score: float
    held_out_score: float
    other_profile_scores: dict[str, float]
    minutes_from_window_start: tuple[float, ...]
    minutes_after_labelled_point: tuple[float, ...]
    seconds: float
    rows: int

    @property
    def hits(self) -> int:
        return sum(outcome.hits for outcome in self.outcomes)

    @property
    def misses(self) -> int:
        return sum(outcome.misses for outcome in self.outcomes)

    @property
    def false_positives(self) -> int:
        return sum(outcome.false_positives for outcome in self.outcomes)


def _null_and_perfect(outcomes: Sequence[FileOutcome]) -> tuple[float, float]:
    return sum(o.null_score for o in outcomes), sum(o.perfect_score for o in outcomes)


def leave_one_file_out(
    files: Sequence[ScorableFile], scores: Sequence[Sequence[float]], profile: CostProfile = STANDARD_PROFILE
) -> float:
    """Normalised score when each file is scored at the threshold that is best on the other files."""
    outcomes = []
    for held_out in range(len(files)):
        others = [i for i in range(len(files)) if i != held_out]
        threshold, _ = best_threshold([files[i] for i in others], [scores[i] for i in others], profile)
        outcomes.append(score_file(files[held_out], scores[held_out], threshold, profile))
    null, perfect = _null_and_perfect(outcomes)
    return normalised_score(sum(o.raw_score for o in outcomes), null, perfect)


def _optimised_score(
    files: Sequence[ScorableFile],
    scores: Sequence[Sequence[float]],
    profile: CostProfile,
    fixed_threshold: float | None = None,
) -> tuple[float, tuple[FileOutcome, ...], float]:
    if fixed_threshold is None:
        threshold, _ = best_threshold(files, scores, profile)
    else:
        threshold = fixed_threshold
    outcomes = tuple(score_file(f, s, threshold, profile) for f, s in zip(files, scores, strict=True))
    null, perfect = _null_and_perfect(outcomes)
    return threshold, outcomes, normalised_score(sum(o.raw_score for o in outcomes), null, perfect)


def _delays(corpus: PreparedCorpus, outcomes: Sequence[FileOutcome]) -> tuple[list[float], list[float]]:
    from_start: list[float] = []
    after_point: list[float] = []
    for item, outcome in zip(corpus.files, outcomes, strict=True):
        times = item.series.times
        for span, row in zip(outcome.spans, outcome.first_detections, strict=True):
            if row is None:
                continue
            from_start.append((times[row] - times[span.first_row]).total_seconds() / 60.0)
            inside = [p for p in item.anomaly_points if times[span.first_row] <= p <= times[span.last_row]]
            if inside:
                after_point.append((times[row] - inside[0]).total_seconds() / 60.0)
    return from_start, after_point


def evaluate_detector(
    name: str, detect: ScoreFunction, corpus: PreparedCorpus, fixed_threshold: float | None = None
) -> DetectorEvaluation:
    """Score every file with `detect`, optimise one threshold over the corpus, and summarise.

    With `fixed_threshold` nothing is optimised: every figure uses that threshold.
    """
    started = time.perf_counter()
    scores = [detect(item.series.values) for item in corpus.files]
    seconds = time.perf_counter() - started
    standard = corpus.scorable(STANDARD_PROFILE)
    threshold, outcomes, score = _optimised_score(standard, scores, STANDARD_PROFILE, fixed_threshold)
    others = {
        profile.name: _optimised_score(corpus.scorable(profile), scores, profile, fixed_threshold)[2]
        for profile in OTHER_PROFILES
    }
    held_out = score if fixed_threshold is not None else leave_one_file_out(standard, scores, STANDARD_PROFILE)
    from_start, after_point = _delays(corpus, outcomes)
    return DetectorEvaluation(
        detector=name,
        threshold=threshold,
        outcomes=outcomes,
        score=score,
        held_out_score=held_out,
        other_profile_scores=others,
        minutes_from_window_start=tuple(from_start),
        minutes_after_labelled_point=tuple(after_point),
        seconds=seconds,
        rows=sum(len(item.series) for item in corpus.files),
    )


def _mean(values: Sequence[float]) -> str:
    return f"{statistics.fmean(values):8.0f}" if values else f"{'-':>8}"


def format_file_table(evaluation: DetectorEvaluation) -> str:
    lines = [
        f"{evaluation.detector}: per file at threshold {evaluation.threshold:.4f}",
        f"  {'file':44} {'windows':>7} {'hits':>4} {'misses':>6} {'FP':>4} {'delay(rows)':>11} {'raw':>7} {'NAB':>6}",
    ]
    for outcome in evaluation.outcomes:
        delays = outcome.detection_delays
        mean_delay = f"{statistics.fmean(delays):11.1f}" if delays else f"{'-':>11}"
        if outcome.perfect_score > outcome.null_score:
            file_score = normalised_score(outcome.raw_score, outcome.null_score, outcome.perfect_score)
            nab = f"{file_score:6.1f}"
        else:
            nab = f"{'-':>6}"
        lines.append(
            f"  {outcome.name[:44]:44} {outcome.windows:7d} {outcome.hits:4d} {outcome.misses:6d} "
            f"{outcome.false_positives:4d} {mean_delay} {outcome.raw_score:7.3f} {nab}"
        )
    return "\n".join(lines)


def format_summary(evaluations: Sequence[DetectorEvaluation]) -> str:
    header = (
        f"{'detector':18} {'NAB std':>7} {'held-out':>8} {'low FP':>7} {'low FN':>7} {'hits':>5} {'misses':>6} "
        f"{'FP':>5} {'delay min':>9} {'vs label':>8} {'threshold':>9} {'pts/s':>8}"
    )
    lines = [header, "-" * len(header)]
    for ev in evaluations:
        lines.append(
            f"{ev.detector:18} {ev.score:7.1f} {ev.held_out_score:8.1f} "
            f"{ev.other_profile_scores[REWARD_LOW_FP_PROFILE.name]:7.1f} "
            f"{ev.other_profile_scores[REWARD_LOW_FN_PROFILE.name]:7.1f} {ev.hits:5d} {ev.misses:6d} "
            f"{ev.false_positives:5d} {_mean(ev.minutes_from_window_start):>9} "
            f"{_mean(ev.minutes_after_labelled_point):>8} {ev.threshold:9.4f} "
            f"{_throughput(ev):>8}"
        )
    return "\n".join(lines)


def _throughput(evaluation: DetectorEvaluation) -> str:
    return "-" if evaluation.seconds <= 0 else f"{evaluation.rows / evaluation.seconds:8.0f}"
