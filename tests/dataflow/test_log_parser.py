from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from dataflow.log_parser import parse_log_entry, parse_log_line
from dataflow.observations import ERROR_LOG, OOM_KILLED, WARNING_LOG, ParseError

CHECKOUT = ("acme-prod", "europe-west1", "prod-cluster", "shop", "Deployment", "checkout")


def test_container_error_log_counts_as_error_with_event_time(sample) -> None:
    [obs] = parse_log_entry(sample("logging/container_stderr_error.json"))
    assert obs.measure == ERROR_LOG
    assert obs.key == CHECKOUT
    assert (obs.pod_name, obs.container_name) == ("checkout-6d9f7b5c8d-x2kq9", "checkout")
    # nanosecond timestamp, truncated to microseconds
    assert obs.timestamp == datetime(2026, 3, 2, 10, 15, 3, 118272, tzinfo=UTC).timestamp()


def test_json_payload_warning_counts_as_warning(sample) -> None:
    [obs] = parse_log_entry(sample("logging/container_json_warning.json"))
    assert (obs.measure, obs.key) == (WARNING_LOG, CHECKOUT)


def test_info_log_yields_nothing(sample) -> None:
    assert parse_log_entry(sample("logging/container_stdout_info.json")) == []


def test_backoff_event_is_a_warning_for_the_pods_workload(sample) -> None:
    [obs] = parse_log_entry(sample("logging/event_pod_backoff.json"))
    assert obs.measure == WARNING_LOG
    assert obs.key == CHECKOUT
    assert obs.container_name == "checkout"  # from involvedObject.fieldPath


def test_pod_oom_event_counts_an_oom_kill_and_a_warning(sample) -> None:
    observations = parse_log_entry(sample("logging/event_pod_oomkilled.json"))
    assert sorted(o.measure for o in observations) == sorted([OOM_KILLED, WARNING_LOG])
    assert {o.key for o in observations} == {
        ("acme-prod", "europe-west1", "prod-cluster", "shop", "Deployment", "cart")
    }


def test_node_level_oom_event_is_not_attributed(sample) -> None:
    assert parse_log_entry(sample("logging/event_node_oomkilling.json")) == []


def test_line_form_equals_object_form(sample) -> None:
    entry = sample("logging/container_stderr_error.json")
    assert parse_log_line(json.dumps(entry).encode()) == parse_log_entry(entry)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda e: e.pop("resource"), "resource.type"),
        (lambda e: e["resource"]["labels"].pop("pod_name"), "pod_name"),
        (lambda e: e.update(timestamp="yesterday"), "yesterday"),
        (lambda e: (e.pop("timestamp"), e.pop("receiveTimestamp")), "timestamp"),
    ],
)
def test_malformed_entries_say_what_is_wrong(sample, mutate, message: str) -> None:
    entry = sample("logging/container_stderr_error.json")
    mutate(entry)
    with pytest.raises(ParseError, match=message):
        parse_log_entry(entry)


def test_not_json_and_not_an_object_are_rejected() -> None:
    with pytest.raises(ParseError, match="not JSON"):
        parse_log_line("{oops")
    with pytest.raises(ParseError, match="JSON object"):
        parse_log_line("[1, 2]")
