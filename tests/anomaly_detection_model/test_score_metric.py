from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from anomaly_detection_model.score_metric import (
    METRIC_TYPE,
    MetricFormatError,
    append_points,
    parse_rfc3339,
    point_from_score,
    read_points,
    rfc3339,
    to_time_series_json,
)

SCORE = {
    "window_end": "2026-03-02T10:16:00Z",
    "project_id": "acme-prod",
    "location": "europe-west1",
    "cluster": "prod-cluster",
    "namespace": "shop",
    "controller_kind": "Deployment",
    "controller_name": "cart",
    "pod_name": "cart-7c5d8f9b6d-pl4mz",
    "container_name": "cart",
    "score": 0.93,
    "model_version": "v20260302T000000Z-1a2b3c4d",
}


def test_score_row_becomes_a_k8s_container_time_series() -> None:
    series = to_time_series_json(point_from_score(SCORE))
    assert series == {
        "metric": {
            "type": METRIC_TYPE,
            "labels": {
                "model_version": "v20260302T000000Z-1a2b3c4d",
                "controller_name": "cart",
                "controller_kind": "Deployment",
            },
        },
        "resource": {
            "type": "k8s_container",
            "labels": {
                "project_id": "acme-prod",
                "location": "europe-west1",
                "cluster_name": "prod-cluster",
                "namespace_name": "shop",
                "pod_name": "cart-7c5d8f9b6d-pl4mz",
                "container_name": "cart",
            },
        },
        "metricKind": "GAUGE",
        "valueType": "DOUBLE",
        "points": [{"interval": {"endTime": "2026-03-02T10:16:00Z"}, "value": {"doubleValue": 0.93}}],
    }


def test_local_store_round_trip_in_order(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    first = point_from_score(SCORE)
    second = point_from_score(SCORE | {"window_end": "2026-03-02T10:17:00Z", "score": 0.5})
    assert append_points(path, [first]) == 1
    append_points(path, [second])
    with path.open("a") as handle:  # other metrics may share the file
        handle.write(
            json.dumps(to_time_series_json(first) | {"metric": {"type": "custom.googleapis.com/other"}}) + "\n"
        )
    assert [p for _, p in read_points(path)] == [first, second]
    assert len(list(read_points(path, metric_type=None))) == 3
    assert list(read_points(tmp_path / "absent.jsonl")) == []


def test_malformed_lines_name_their_line_number(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    append_points(path, [point_from_score(SCORE)])
    with path.open("a") as handle:
        handle.write("{broken\n")
    with pytest.raises(MetricFormatError, match=r"metrics\.jsonl:2: not JSON"):
        list(read_points(path))
    bad = to_time_series_json(point_from_score(SCORE))
    bad["points"] = [{"interval": {}, "value": {"doubleValue": 1}}]
    path.write_text(json.dumps(bad) + "\n")
    with pytest.raises(MetricFormatError, match=r":1: points\[0\] needs interval.endTime"):
        list(read_points(path))


def test_rfc3339_with_nanoseconds_and_offsets() -> None:
    assert parse_rfc3339("2026-03-02T10:15:03.118272645Z") == datetime(2026, 3, 2, 10, 15, 3, 118272, tzinfo=UTC)
    assert parse_rfc3339("2026-03-02T11:15:03+01:00") == datetime(2026, 3, 2, 10, 15, 3, tzinfo=UTC)
    assert rfc3339(datetime(2026, 3, 2, 10, 15, tzinfo=UTC)) == "2026-03-02T10:15:00Z"
    for text in ("2026-03-02T10:15:03", "yesterday", ""):
        with pytest.raises(MetricFormatError):
            parse_rfc3339(text)


def test_score_records_need_a_finite_score() -> None:
    with pytest.raises(MetricFormatError, match="finite"):
        point_from_score(SCORE | {"score": float("nan")})
    with pytest.raises(MetricFormatError, match="score"):
        point_from_score({k: v for k, v in SCORE.items() if k != "score"})
