from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from google.cloud import monitoring_v3

from dataflow.metric_parser import parse_metric_line, parse_time_series
from dataflow.observations import CPU, MEMORY, RESTART_COUNT, RESTART_DELTA, ParseError

SAMPLES = [
    "monitoring/cpu_limit_utilization.json",
    "monitoring/memory_limit_utilization.json",
    "monitoring/memory_limit_utilization_evictable.json",
    "monitoring/restart_count_cumulative.json",
    "monitoring/restart_count_delta.json",
]


@pytest.mark.parametrize("name", SAMPLES)
def test_samples_are_valid_monitoring_v3_time_series(sample, name: str) -> None:
    data = sample(name)
    parsed = monitoring_v3.TimeSeries.from_json(json.dumps(data))  # rejects unknown fields
    assert parsed.resource.type == "k8s_container"


def test_cpu_points_one_observation_each_with_controller_from_system_labels(sample) -> None:
    observations = parse_time_series(sample("monitoring/cpu_limit_utilization.json"))
    assert [o.value for o in observations] == [0.4217, 0.3981]
    assert {o.measure for o in observations} == {CPU}
    assert {o.key for o in observations} == {
        ("acme-prod", "europe-west1", "prod-cluster", "shop", "Deployment", "checkout")
    }
    assert observations[0].timestamp == datetime(2026, 3, 2, 10, 15, tzinfo=UTC).timestamp()


def test_memory_uses_non_evictable_and_ignores_evictable(sample) -> None:
    [obs] = parse_time_series(sample("monitoring/memory_limit_utilization.json"))
    assert (obs.measure, obs.value) == (MEMORY, 0.6125)
    assert parse_time_series(sample("monitoring/memory_limit_utilization_evictable.json")) == []


def test_restart_count_cumulative_int64_strings(sample) -> None:
    observations = parse_time_series(sample("monitoring/restart_count_cumulative.json"))
    assert [(o.measure, o.value) for o in observations] == [(RESTART_COUNT, 7.0), (RESTART_COUNT, 4.0)]
    # no system labels: controller inferred from the pod name
    assert observations[0].key[4:] == ("Deployment", "cart")


def test_restart_delta_is_placed_inside_the_minute_it_counts(sample) -> None:
    [obs] = parse_time_series(sample("monitoring/restart_count_delta.json"))
    assert (obs.measure, obs.value) == (RESTART_DELTA, 3.0)
    assert obs.timestamp == datetime(2026, 3, 2, 10, 15, 30, tzinfo=UTC).timestamp()


def test_enum_numbers_from_integer_json_are_understood(sample) -> None:
    data = sample("monitoring/restart_count_delta.json")
    data["metricKind"] = 2  # TimeSeries.to_json's default writes enums as numbers
    [obs] = parse_time_series(data)
    assert obs.measure == RESTART_DELTA


def test_unrelated_metric_yields_nothing(sample) -> None:
    data = sample("monitoring/cpu_limit_utilization.json")
    data["metric"]["type"] = "kubernetes.io/container/cpu/core_usage_time"
    assert parse_time_series(data) == []


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s["resource"].update(type="k8s_pod"), "k8s_container"),
        (lambda s: s["resource"]["labels"].pop("namespace_name"), "namespace_name"),
        (lambda s: s.update(points=[]), "no points"),
        (lambda s: s["points"][0].update(value={"doubleValue": "lots"}), "not a number"),
        (lambda s: s["points"][0]["interval"].pop("endTime"), "endTime"),
        (lambda s: s["points"][0].update(value={"boolValue": True}), "neither doubleValue"),
        (lambda s: s.pop("metric"), "metric.type"),
    ],
)
def test_malformed_series_say_what_is_wrong(sample, mutate, message: str) -> None:
    data = sample("monitoring/cpu_limit_utilization.json")
    mutate(data)
    with pytest.raises(ParseError, match=message):
        parse_time_series(data)


def test_not_json_is_rejected() -> None:
    with pytest.raises(ParseError, match="not JSON"):
        parse_metric_line(b"\xff\xfe")
