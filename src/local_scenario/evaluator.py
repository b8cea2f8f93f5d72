"""A local alert evaluator: the Cloud Monitoring threshold condition over sampled series.

Pure: feed it one round of samples at a time; it aligns each series over the rule's
(scaled) alignment period, checks the comparison against the threshold for the rule's
(scaled) duration, and says when an incident opens or closes. One incident per
(policy, workload) at a time; it closes when no series of that workload violates any more
(which includes the offending pod having gone and its replacements being healthy).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from local_scenario.alert_rules import AlertRule, TimeBase

# Which field of a sampled container carries each rule's metric.
METRIC_FIELDS = {
    "kubernetes.io/container/cpu/limit_utilization": "cpu_limit_utilization",
    "kubernetes.io/container/memory/limit_utilization": "memory_limit_utilization",
    "kubernetes.io/container/restart_count": "restart_count",
    "custom.googleapis.com/healer/anomaly_score": "anomaly_score",
}


@dataclass(frozen=True)
class SeriesKey:
    namespace: str
    workload: str
    pod: str
    container: str


@dataclass(frozen=True)
class Sample:
    key: SeriesKey
    values: dict[str, float]  # metric field -> value


@dataclass(frozen=True)
class AlertEvent:
    state: str  # open | closed
    rule: AlertRule
    key: SeriesKey  # the series that opened the incident
    observed: float
    at: float
    incident_id: str
    started_at: float


@dataclass
class _Series:
    points: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=4096))
    violating_since: dict[str, float] = field(default_factory=dict)  # rule name -> first violating time


@dataclass
class _OpenIncident:
    incident_id: str
    key: SeriesKey
    started_at: float
    observed: float


def aligned_value(
    points: deque[tuple[float, float]], aligner: str, period: float, now: float, slack: float = 0.0
) -> float | None:
    """The series aligned over (now - period + slack, now], as Cloud Monitoring's per-series aligner does.

    `slack` (half a sample interval) keeps the count of samples per period stable when real
    sampling jitters a little around its schedule.
    """
    start = now - period + slack
    window = [(t, v) for t, v in points if start < t <= now]
    if not window:
        return None
    if aligner == "ALIGN_MEAN":
        return sum(v for _, v in window) / len(window)
    if aligner == "ALIGN_MAX":
        return max(v for _, v in window)
    before = [(t, v) for t, v in points if t <= start]
    start_t, start_v = before[-1] if before else window[0]
    delta = window[-1][1] - start_v
    if aligner == "ALIGN_DELTA":
        return delta
    elapsed = window[-1][0] - start_t
    return delta / elapsed if elapsed > 0 else 0.0


class AlertEvaluator:
    def __init__(self, rules: tuple[AlertRule, ...], time_base: TimeBase) -> None:
        self.rules = tuple(r for r in rules if r.metric_type in METRIC_FIELDS)
        self.time_base = time_base
        self._series: dict[tuple[str, SeriesKey], _Series] = {}
        self._open: dict[tuple[str, str, str], _OpenIncident] = {}
        self._counter = 0

    def _period(self, rule: AlertRule) -> float:
        # Cloud Monitoring's minimum alignment period is 60 s: one sample here.
        return max(self.time_base.demo_seconds(rule.alignment_seconds), self.time_base.sample_interval)

    def _aligned(self, rule: AlertRule, points: deque[tuple[float, float]], now: float) -> float | None:
        return aligned_value(points, rule.aligner, self._period(rule), now, self.time_base.sample_interval / 2)

    def open_incidents(self) -> dict[tuple[str, str, str], str]:
        return {k: v.incident_id for k, v in self._open.items()}

    def observe(self, now: float, samples: list[Sample]) -> list[AlertEvent]:
        events: list[AlertEvent] = []
        seen: set[tuple[str, SeriesKey]] = set()
        violating: dict[tuple[str, str, str], tuple[SeriesKey, float, float]] = {}
        for rule in self.rules:
            metric = METRIC_FIELDS[rule.metric_type]
            for sample in samples:
                value = sample.values.get(metric)
                if value is None:
                    continue
                series = self._series.setdefault((metric, sample.key), _Series())
                if (metric, sample.key) not in seen:
                    series.points.append((now, float(value)))
                    seen.add((metric, sample.key))
                aligned = self._aligned(rule, series.points, now)
                if aligned is None or not rule.violates(aligned):
                    series.violating_since.pop(rule.name, None)
                    continue
                since = series.violating_since.setdefault(rule.name, now)
                if now - since + 1e-9 >= self.time_base.demo_seconds(rule.duration_seconds):
                    incident_key = (rule.name, sample.key.namespace, sample.key.workload)
                    if incident_key not in violating or aligned > violating[incident_key][1]:
                        violating[incident_key] = (sample.key, aligned, since)
        for gone in [k for k in self._series if k not in seen]:
            del self._series[gone]
        rules = {r.name: r for r in self.rules}
        for incident_key, (key, observed, _since) in sorted(violating.items(), key=lambda kv: kv[0]):
            if incident_key in self._open:
                continue
            self._counter += 1
            incident_id = f"0.local{int(now * 1000):x}{self._counter:03d}"
            self._open[incident_key] = _OpenIncident(incident_id, key, now, observed)
            events.append(AlertEvent("open", rules[incident_key[0]], key, observed, now, incident_id, now))
        for incident_key in [k for k in self._open if k not in violating]:
            incident = self._open.pop(incident_key)
            rule = rules[incident_key[0]]
            events.append(
                AlertEvent(
                    "closed", rule, incident.key, incident.observed, now, incident.incident_id, incident.started_at
                )
            )
        return events

    def aligned(self, rule: AlertRule, key: SeriesKey, now: float) -> float | None:
        series = self._series.get((METRIC_FIELDS[rule.metric_type], key))
        return None if series is None else self._aligned(rule, series.points, now)
