from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from anomaly_detection_model.score_metric import METRIC_TYPE, ScorePoint
from dataflow.metric_writers import make_monitoring_client, plan_requests, write_to_cloud_monitoring

T0 = datetime(2026, 3, 2, 10, 16, tzinfo=UTC)


def point(n: int, minute: int = 0, value: float = 0.5) -> ScorePoint:
    return ScorePoint(
        end_time=T0 + timedelta(minutes=minute),
        value=value,
        resource_labels={
            "project_id": "acme-prod",
            "location": "europe-west1",
            "cluster_name": "prod-cluster",
            "namespace_name": "shop",
            "pod_name": f"web{n}-6d9f7b5c8d-x2kq9",
            "container_name": f"web{n}",
        },
        metric_labels={"model_version": "v1", "controller_name": f"web{n}", "controller_kind": "Deployment"},
    )


def test_requests_hold_at_most_200_distinct_series() -> None:
    requests = plan_requests([point(n) for n in range(450)])
    assert [len(r) for r in requests] == [200, 200, 50]
    for request in requests:
        assert len({p.series_key for p in request}) == len(request)


def test_a_series_never_appears_twice_in_one_request_and_stays_in_time_order() -> None:
    points = [point(1, minute=2), point(1, minute=0), point(2, minute=1), point(1, minute=1)]
    requests = plan_requests(points)
    assert all(len({p.series_key for p in r}) == len(r) for r in requests)
    series_one = [p.end_time for r in requests for p in r if p.metric_labels["controller_name"] == "web1"]
    assert series_one == sorted(series_one) and len(series_one) == 3


def test_invalid_request_size_is_rejected() -> None:
    with pytest.raises(ValueError, match="max_series"):
        plan_requests([point(1)], max_series=0)


def test_create_time_series_over_grpc_carries_the_metric_contract(fake_monitoring) -> None:
    client = make_monitoring_client(fake_monitoring.endpoint)
    result = write_to_cloud_monitoring(client, "acme-prod", [point(n, value=0.9) for n in range(250)])
    assert (result.written, result.failed) == (250, 0)
    bodies = fake_monitoring.created_json()
    assert [body["name"] for body in bodies] == ["projects/acme-prod", "projects/acme-prod"]
    assert [len(body["timeSeries"]) for body in bodies] == [200, 50]
    series = bodies[0]["timeSeries"][0]
    assert series["metric"] == {
        "type": METRIC_TYPE,
        "labels": {"model_version": "v1", "controller_name": "web0", "controller_kind": "Deployment"},
    }
    assert series["resource"]["type"] == "k8s_container"
    assert series["resource"]["labels"]["pod_name"] == "web0-6d9f7b5c8d-x2kq9"
    assert (series["metricKind"], series["valueType"]) == ("GAUGE", "DOUBLE")
    [only_point] = series["points"]
    assert only_point["interval"] == {"endTime": "2026-03-02T10:16:00Z"}
    assert only_point["value"] == {"doubleValue": 0.9}


def test_a_rejected_request_is_counted_not_raised(fake_monitoring) -> None:
    fake_monitoring.fail_creates = 1
    client = make_monitoring_client(fake_monitoring.endpoint)
    result = write_to_cloud_monitoring(client, "acme-prod", [point(n) for n in range(201)])
    assert (result.written, result.failed) == (1, 200)
