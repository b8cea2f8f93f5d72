"""Writing anomaly-score points: Cloud Monitoring ``create_time_series`` or the local store.

Rules for Cloud Monitoring: one point per TimeSeries, at most 200 series per
request, a series at most once per request, points of a series in time order.
:func:`plan_requests` turns a batch of points into requests that keep them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anomaly_detection_model.score_metric import (
    MAX_SERIES_PER_REQUEST,
    METRIC_TYPE,
    RESOURCE_TYPE,
    ScorePoint,
    append_points,
)

log = logging.getLogger(__name__)


def plan_requests(points: Iterable[ScorePoint], max_series: int = MAX_SERIES_PER_REQUEST) -> list[list[ScorePoint]]:
    """Group points into requests: each holds <= max_series distinct series, oldest points first."""
    if max_series < 1:
        raise ValueError("max_series must be at least 1")
    requests: list[list[ScorePoint]] = []
    seen: list[set[tuple[tuple[str, str], ...]]] = []
    for point in sorted(points, key=lambda p: p.end_time):
        key = point.series_key
        # the first request after the last one holding this series, with room left
        start = 0
        for index in range(len(requests) - 1, -1, -1):
            if key in seen[index]:
                start = index + 1
                break
        for index in range(start, len(requests)):
            if len(requests[index]) < max_series:
                requests[index].append(point)
                seen[index].add(key)
                break
        else:
            requests.append([point])
            seen.append({key})
    return requests


def to_proto_time_series(point: ScorePoint) -> Any:
    from google.api import metric_pb2
    from google.cloud import monitoring_v3

    seconds = point.end_time.timestamp()
    series = monitoring_v3.TimeSeries()
    series.metric.type = METRIC_TYPE
    series.metric.labels.update(point.metric_labels)
    series.resource.type = RESOURCE_TYPE
    series.resource.labels.update(point.resource_labels)
    series.metric_kind = metric_pb2.MetricDescriptor.MetricKind.GAUGE
    series.value_type = metric_pb2.MetricDescriptor.ValueType.DOUBLE
    series.points = [
        monitoring_v3.Point(
            {
                "interval": {"end_time": {"seconds": int(seconds), "nanos": round((seconds % 1) * 1e9)}},
                "value": {"double_value": point.value},
            }
        )
    ]
    return series


@dataclass
class WriteResult:
    written: int = 0
    failed: int = 0


def make_monitoring_client(endpoint: str = "") -> Any:
    """A MetricServiceClient; ``endpoint`` (``127.0.0.1:PORT``) selects a plaintext gRPC stand-in, no auth."""
    from google.cloud import monitoring_v3

    if not endpoint:
        return monitoring_v3.MetricServiceClient()
    import grpc
    from google.cloud.monitoring_v3.services.metric_service.transports import MetricServiceGrpcTransport

    channel = grpc.insecure_channel(endpoint.removeprefix("http://"))
    return monitoring_v3.MetricServiceClient(transport=MetricServiceGrpcTransport(channel=channel))


def write_to_cloud_monitoring(client: Any, project: str, points: Sequence[ScorePoint]) -> WriteResult:
    """``create_time_series`` in planned requests; a failed request is logged and counted, not raised."""
    result = WriteResult()
    for request in plan_requests(points):
        try:
            client.create_time_series(
                name=f"projects/{project}", time_series=[to_proto_time_series(p) for p in request]
            )
            result.written += len(request)
        except Exception as exc:  # the API's errors are many; one bad request must not stop the pipeline
            log.warning("create_time_series failed for %d points: %s", len(request), exc)
            result.failed += len(request)
    return result


def write_to_local_store(path: Path, points: Sequence[ScorePoint]) -> WriteResult:
    ordered = sorted(points, key=lambda p: p.end_time)
    return WriteResult(written=append_points(path, ordered))
