from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

import pytest
from google.cloud import monitoring_v3

from dataflow.metric_parser import CPU_METRIC, MEMORY_METRIC, RESTART_METRIC, parse_metric_line
from dataflow.metric_writers import make_monitoring_client
from dataflow.metrics_exporter import ExporterSettings, export_once, pubsub_publisher
from dataflow.observations import CPU, MEMORY, RESTART_DELTA

NOW = datetime(2026, 3, 2, 10, 20, tzinfo=UTC)


def _settings(endpoint: str, topic: str = "projects/acme-prod/topics/gke-metrics") -> ExporterSettings:
    return ExporterSettings(project="acme-prod", topic=topic, monitoring_endpoint=endpoint, cluster="prod-cluster")


def _serve_samples(fake_monitoring, sample) -> None:
    fake_monitoring.series = {
        CPU_METRIC: [sample("monitoring/cpu_limit_utilization.json")],
        MEMORY_METRIC: [sample("monitoring/memory_limit_utilization.json")],
        RESTART_METRIC: [sample("monitoring/restart_count_delta.json")],
    }


def test_export_publishes_one_message_per_point_in_time_series_json(fake_monitoring, sample) -> None:
    _serve_samples(fake_monitoring, sample)
    published: list[tuple[bytes, Mapping[str, str]]] = []
    count = export_once(
        make_monitoring_client(fake_monitoring.endpoint),
        lambda body, attributes: published.append((body, attributes)),
        _settings(fake_monitoring.endpoint),
        now=NOW,
    )
    assert count == len(published) == 4  # 2 CPU points + 1 memory + 1 restart delta
    bodies = [json.loads(body) for body, _ in published]
    assert all(len(b["points"]) == 1 for b in bodies)
    assert bodies[0]["metricKind"] == "GAUGE"  # enum names, not numbers
    assert bodies[0]["metadata"]["systemLabels"]["top_level_controller_name"] == "checkout"
    assert bodies[3]["points"][0]["value"] == {"int64Value": "3"}
    assert [a["timestamp"] for _, a in published][:2] == ["2026-03-02T10:15:00Z", "2026-03-02T10:14:00Z"]
    # what the pipeline makes of the messages
    measures = [o.measure for body, _ in published for o in parse_metric_line(body)]
    assert measures == [CPU, CPU, MEMORY, RESTART_DELTA]


def test_export_requests_the_delayed_window_and_delta_alignment_for_restarts(fake_monitoring, sample) -> None:
    _serve_samples(fake_monitoring, sample)
    export_once(
        make_monitoring_client(fake_monitoring.endpoint), lambda b, a: None, _settings(fake_monitoring.endpoint), NOW
    )
    cpu, memory, restarts = fake_monitoring.list_requests
    assert cpu.name == "projects/acme-prod"
    assert cpu.filter == (
        f'metric.type = "{CPU_METRIC}" AND resource.type = "k8s_container"'
        ' AND resource.labels.cluster_name = "prod-cluster"'
    )
    assert cpu.interval.end_time.timestamp() == NOW.timestamp() - 180
    assert cpu.interval.start_time.timestamp() == NOW.timestamp() - 240
    assert cpu.view == monitoring_v3.ListTimeSeriesRequest.TimeSeriesView.FULL
    assert restarts.aggregation.per_series_aligner == monitoring_v3.Aggregation.Aligner.ALIGN_DELTA
    assert restarts.aggregation.alignment_period.total_seconds() == 60
    assert not memory.aggregation.per_series_aligner


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"project": ""}, "project"),
        ({"topic": "gke-metrics"}, "projects/PROJECT/topics"),
        ({"lookback_seconds": 10}, "lookback"),
        ({"delay_seconds": -1}, "delay"),
    ],
)
def test_settings_are_validated(kwargs, message: str) -> None:
    base = {"project": "acme-prod", "topic": "projects/acme-prod/topics/t"}
    with pytest.raises(ValueError, match=message):
        ExporterSettings(**{**base, **kwargs})


@pytest.mark.emulator
def test_points_reach_pub_sub_with_the_timestamp_attribute(
    fake_monitoring, sample, pubsub_emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    from google.cloud import pubsub_v1

    # the shared session emulator (tests/conftest.py): names of our own
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", pubsub_emulator.host_port)
    suffix = uuid.uuid4().hex[:8]
    topic = f"projects/acme-prod/topics/gke-metrics-{suffix}"
    subscription = f"projects/acme-prod/subscriptions/features-pipeline-{suffix}"
    pubsub_v1.PublisherClient().create_topic(name=topic)
    subscriber = pubsub_v1.SubscriberClient()
    subscriber.create_subscription(name=subscription, topic=topic)
    _serve_samples(fake_monitoring, sample)
    publish, flush = pubsub_publisher(topic)
    assert (
        export_once(make_monitoring_client(fake_monitoring.endpoint), publish, _settings(fake_monitoring.endpoint), NOW)
        == 4
    )
    flush()
    received = []
    deadline = time.monotonic() + 20
    while len(received) < 4 and time.monotonic() < deadline:
        answer = subscriber.pull(subscription=subscription, max_messages=10, timeout=5)
        received += [m.message for m in answer.received_messages]
    assert len(received) == 4
    first = min(received, key=lambda m: m.attributes["timestamp"])
    assert first.attributes["metric_type"] in (CPU_METRIC, MEMORY_METRIC, RESTART_METRIC)
    assert parse_metric_line(first.data)
