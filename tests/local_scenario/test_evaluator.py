"""The local alert evaluator applies config/alert_rules.yaml the way Cloud Monitoring does."""

from __future__ import annotations

from pathlib import Path

import pytest

from local_scenario.alert_rules import AlertRulesError, TimeBase, load_rules, parse_rules
from local_scenario.evaluator import AlertEvaluator, Sample, SeriesKey, aligned_value
from local_scenario.incidents import ClusterIdentity, incident_payload
from self_healing_service.incident import parse_notification

REPO = Path(__file__).resolve().parents[2]
RULES = load_rules(REPO / "config" / "alert_rules.yaml")
BASE = TimeBase(240.0)  # one aligned minute every 0.25 s
STEP = BASE.sample_interval
POD = SeriesKey("shop", "checkout", "checkout-abc-1", "checkout")


def _cpu(value: float, restarts: int = 0, key: SeriesKey = POD) -> Sample:
    return Sample(key, {"cpu_limit_utilization": value, "memory_limit_utilization": 0.4, "restart_count": restarts})


def _feed(evaluator: AlertEvaluator, rounds: list[list[Sample]], start: float = 1000.0) -> list[tuple[int, str, str]]:
    seen = []
    for index, samples in enumerate(rounds):
        for event in evaluator.observe(start + index * STEP, samples):
            seen.append((index, event.state, event.rule.name))
    return seen


def test_cpu_rule_opens_only_after_its_scaled_duration_and_closes_when_it_clears() -> None:
    evaluator = AlertEvaluator(RULES, BASE)
    # 300 s duration at 240x = 1.25 s = 5 samples of violation before the incident opens
    rounds = [[_cpu(0.3)]] * 3 + [[_cpu(0.98)]] * 12 + [[_cpu(0.3)]] * 3
    events = _feed(evaluator, rounds)
    cpu = [(i, state) for i, state, name in events if name == "gke-container-cpu-high"]
    first_violation = 3
    # the mean over one aligned minute (one sample) crosses 0.9 at the first hot sample
    assert cpu[0] == (first_violation + 5, "open")
    assert cpu[1][1] == "closed"
    assert cpu[1][0] == 15


def test_short_spike_does_not_open_an_incident() -> None:
    evaluator = AlertEvaluator(RULES, BASE)
    events = _feed(evaluator, [[_cpu(0.3)]] * 3 + [[_cpu(0.99)]] * 3 + [[_cpu(0.3)]] * 10)
    assert events == []


def test_crash_loop_uses_the_delta_of_restarts_over_the_aligned_period() -> None:
    evaluator = AlertEvaluator(RULES, BASE)
    rounds = [[_cpu(0.3, restarts=0)]] * 3 + [[_cpu(0.01, restarts=n)] for n in range(1, 8)]
    events = _feed(evaluator, rounds)
    assert ("open", "gke-container-crash-loop") in {(s, n) for _, s, n in events}
    opened_at = next(i for i, s, n in events if n == "gke-container-crash-loop")
    # a period of 300 s = 5 samples; the delta must exceed 3 restarts
    assert opened_at == 3 + 3


def test_one_incident_per_policy_and_workload_and_close_when_the_pod_is_gone() -> None:
    evaluator = AlertEvaluator(RULES, BASE)
    other = SeriesKey("shop", "checkout", "checkout-abc-2", "checkout")
    replacement = SeriesKey("shop", "checkout", "checkout-def-3", "checkout")
    hot = [[_cpu(0.97), _cpu(0.98, key=other)]] * 8
    healed = [[_cpu(0.2, key=replacement)]] * 2
    events = _feed(evaluator, hot + healed)
    assert [(s, n) for _, s, n in events] == [("open", "gke-container-cpu-high"), ("closed", "gke-container-cpu-high")]


def test_aligners() -> None:
    from collections import deque

    points = deque([(0.0, 1.0), (1.0, 3.0), (2.0, 7.0)])
    assert aligned_value(points, "ALIGN_MEAN", 2.0, 2.0) == 5.0
    assert aligned_value(points, "ALIGN_MAX", 5.0, 2.0) == 7.0
    assert aligned_value(points, "ALIGN_DELTA", 1.0, 2.0) == 4.0
    assert aligned_value(points, "ALIGN_RATE", 1.0, 2.0) == 4.0
    assert aligned_value(deque(), "ALIGN_MEAN", 1.0, 2.0) is None


def test_published_incident_parses_as_a_cloud_monitoring_notification() -> None:
    evaluator = AlertEvaluator(RULES, BASE)
    events = evaluator.observe(1000.0, [_cpu(0.99)])
    events += [e for i in range(1, 7) for e in evaluator.observe(1000.0 + i * STEP, [_cpu(0.99)])]
    opened = next(e for e in events if e.state == "open")
    payload = incident_payload(opened, ClusterIdentity("demo-project", "local", "standin"))
    import json

    incident = parse_notification(json.dumps(payload).encode())
    assert incident.kind == "high_cpu"
    assert incident.state == "open"
    assert incident.resource_labels["pod_name"] == POD.pod
    assert incident.controller_name == "checkout"
    assert incident.threshold_value == 0.9


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"version": 2, "policies": []}, "version"),
        ({"version": 1}, "policies"),
        ({"version": 1, "policies": [{"name": "x"}]}, "missing 'kind'"),
        (
            {
                "version": 1,
                "policies": [
                    {
                        "name": "x", "kind": "high_cpu", "severity": "CRITICAL", "resource_type": "k8s_container",
                        "metric_type": "m", "metric_kind": "GAUGE", "per_series_aligner": "ALIGN_MEDIAN",
                        "comparison": "COMPARISON_GT", "threshold": 1, "duration_seconds": 0,
                        "alignment_period_seconds": 60,
                    }
                ],
            },
            "per_series_aligner",
        ),
    ],
)  # fmt: skip
def test_malformed_rules_are_rejected_with_the_field_named(data: object, message: str) -> None:
    with pytest.raises(AlertRulesError, match=message):
        parse_rules(data)
