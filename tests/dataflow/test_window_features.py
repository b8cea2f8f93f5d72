from __future__ import annotations

import pytest

from dataflow.observations import (
    CPU,
    ERROR_LOG,
    MEMORY,
    OOM_KILLED,
    RESTART_COUNT,
    RESTART_DELTA,
    WARNING_LOG,
    Observation,
    ParseError,
    infer_controller,
    workload_key,
)
from dataflow.window_features import WindowAccumulator, feature_row

KEY = ("p", "europe-west1", "c", "shop", "Deployment", "web")


@pytest.mark.parametrize(
    ("pod", "expected"),
    [
        ("web-6d9f7b5c8d-x2kq9", ("Deployment", "web")),
        ("payments-api-7c5d8f9b6d-pl4mz", ("Deployment", "payments-api")),
        ("redis-0", ("StatefulSet", "redis")),
        ("kafka-broker-12", ("StatefulSet", "kafka-broker")),
        ("fluentbit-x2kq9", ("", "fluentbit")),
        ("standalone", ("Pod", "standalone")),
        ("web-abc", ("Pod", "web-abc")),  # vowels never appear in generated suffixes
    ],
)
def test_controller_inferred_from_pod_names(pod: str, expected: tuple[str, str]) -> None:
    assert infer_controller(pod) == expected


def test_explicit_controller_wins_and_kind_is_normalised() -> None:
    key = workload_key("p", "l", "c", "ns", "web-6d9f7b5c8d-x2kq9", "deployment", "web-v2")
    assert key == ("p", "l", "c", "ns", "Deployment", "web-v2")


def test_no_pod_and_no_controller_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="workload"):
        workload_key("p", "l", "c", "ns", "")


def obs(measure: str, value: float, t: float = 0.0, pod: str = "web-6d9f7b5c8d-x2kq9", container: str = "web"):
    return Observation(KEY, pod, container, t, measure, value)


def test_accumulator_aggregates_every_measure() -> None:
    acc = WindowAccumulator()
    for o in [
        obs(CPU, 0.2, 1),
        obs(CPU, 0.6, 2, pod="web-6d9f7b5c8d-b7wqz"),
        obs(MEMORY, 0.7, 3),
        obs(RESTART_DELTA, 2, 4),
        obs(RESTART_COUNT, 5, 5),
        obs(RESTART_COUNT, 8, 6),
        obs(OOM_KILLED, 1, 7),
        obs(ERROR_LOG, 1, 8),
        obs(ERROR_LOG, 1, 9),
        obs(WARNING_LOG, 1, 10, container=""),
    ]:
        acc.add(o)
    row = feature_row(KEY, acc, 60.0, 120.0)
    assert row["window_start"] == "1970-01-01T00:01:00Z"
    assert row["window_end"] == "1970-01-01T00:02:00Z"
    assert row["cpu_utilization_mean"] == pytest.approx(0.4)
    assert row["cpu_utilization_max"] == 0.6
    assert (row["memory_utilization_mean"], row["memory_utilization_max"]) == (0.7, 0.7)
    assert row["restart_delta"] == 2 + 3  # delta points plus cumulative max - min
    assert (row["oom_killed_count"], row["error_log_count"], row["warning_log_count"]) == (1, 2, 1)
    assert (row["pod_count"], row["sample_count"]) == (2, 10)
    # the latest observation naming a container (the warning has none)
    assert (row["last_pod_name"], row["last_container_name"]) == ("web-6d9f7b5c8d-x2kq9", "web")


def test_merge_equals_adding_everything_to_one_accumulator() -> None:
    items = [obs(CPU, v / 10, v, pod=f"web-6d9f7b5c8d-x2kq{'bcd'[v % 3]}") for v in range(1, 9)]
    items += [obs(RESTART_COUNT, v, v) for v in (3, 9, 4)]
    whole = WindowAccumulator()
    for o in items:
        whole.add(o)
    left, right = WindowAccumulator(), WindowAccumulator()
    for i, o in enumerate(items):
        (left if i % 2 else right).add(o)
    merged_row = feature_row(KEY, left.merge(right), 0, 60)
    whole_row = feature_row(KEY, whole, 0, 60)
    # sums in another order may differ in the last bit
    assert merged_row.pop("cpu_utilization_mean") == pytest.approx(whole_row.pop("cpu_utilization_mean"))
    assert merged_row == whole_row
    assert whole_row["restart_delta"] == 6


def test_window_without_metrics_has_null_utilisation() -> None:
    row = feature_row(KEY, WindowAccumulator().add(obs(ERROR_LOG, 1)), 0, 60)
    assert row["cpu_utilization_mean"] is None and row["memory_utilization_max"] is None
    assert row["error_log_count"] == 1
