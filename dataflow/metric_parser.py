"""Cloud Monitoring ``TimeSeries`` JSON -> observations.

The exporter (:mod:`dataflow.metrics_exporter`) publishes one message per
point: the TimeSeries as ``list_time_series`` returns it, in its JSON form
(``TimeSeries.to_json``: camelCase, ``int64Value`` as a string), with exactly
one point. A message with several points is accepted too.

Metrics used (``k8s_container`` resource):

* ``kubernetes.io/container/cpu/limit_utilization`` (GAUGE DOUBLE)
* ``kubernetes.io/container/memory/limit_utilization`` (GAUGE DOUBLE; the
  ``evictable`` memory_type series is ignored, it is reclaimable cache)
* ``kubernetes.io/container/restart_count``: DELTA (exported with
  ``ALIGN_DELTA``; the value is the restarts in the interval) or CUMULATIVE
  (the raw count; the window's delta is max - min per container).

The controller comes from ``metadata.systemLabels.top_level_controller_name``
and ``top_level_controller_type`` when present, else from the pod name.
Other metric types yield nothing.
"""

from __future__ import annotations

import json
import math
from typing import Any

from anomaly_detection_model.score_metric import MetricFormatError, parse_rfc3339
from dataflow.observations import (
    CPU,
    MEMORY,
    RESTART_COUNT,
    RESTART_DELTA,
    Observation,
    ParseError,
    workload_key,
)

CPU_METRIC = "kubernetes.io/container/cpu/limit_utilization"
MEMORY_METRIC = "kubernetes.io/container/memory/limit_utilization"
RESTART_METRIC = "kubernetes.io/container/restart_count"
USED_METRICS = (CPU_METRIC, MEMORY_METRIC, RESTART_METRIC)
# MetricKind by name, and by number for JSON written with integer enums
_METRIC_KINDS = {
    "GAUGE": "GAUGE",
    "DELTA": "DELTA",
    "CUMULATIVE": "CUMULATIVE",
    "1": "GAUGE",
    "2": "DELTA",
    "3": "CUMULATIVE",
}
_RESOURCE_LABELS = ("project_id", "location", "cluster_name", "namespace_name", "pod_name", "container_name")


def _point_value(point: Any, index: int) -> float:
    if not isinstance(point, dict) or not isinstance(point.get("value"), dict):
        raise ParseError(f"points[{index}] has no value")
    value = point["value"]
    for field in ("doubleValue", "int64Value"):
        if field in value:
            try:
                number = float(value[field])
            except (TypeError, ValueError) as exc:
                raise ParseError(f"points[{index}].value.{field} is not a number: {value[field]!r}") from exc
            if not math.isfinite(number):
                raise ParseError(f"points[{index}].value.{field} is not finite")
            return number
    raise ParseError(f"points[{index}].value has neither doubleValue nor int64Value")


def _point_time(point: dict[str, Any], index: int, delta: bool) -> float:
    """Event time of a point: its end time, or for a DELTA point the middle of its interval
    (an ALIGN_DELTA point ending at 10:16:00 counts the restarts of the minute before)."""
    interval = point.get("interval")
    if not isinstance(interval, dict) or not interval.get("endTime"):
        raise ParseError(f"points[{index}] has no interval.endTime")
    try:
        end = parse_rfc3339(str(interval["endTime"])).timestamp()
        start = parse_rfc3339(str(interval["startTime"])).timestamp() if interval.get("startTime") else end
    except MetricFormatError as exc:
        raise ParseError(f"points[{index}]: {exc}") from exc
    return (start + end) / 2 if delta and start < end else end


def parse_time_series(series: Any) -> list[Observation]:
    """One TimeSeries (decoded JSON) -> one observation per point (none for unused metrics)."""
    if not isinstance(series, dict):
        raise ParseError(f"a TimeSeries must be a JSON object, got {type(series).__name__}")
    metric = series.get("metric")
    if not isinstance(metric, dict) or not metric.get("type"):
        raise ParseError("TimeSeries has no metric.type")
    metric_type = str(metric["type"])
    if metric_type not in USED_METRICS:
        return []
    resource = series.get("resource")
    if not isinstance(resource, dict) or resource.get("type") != "k8s_container":
        raise ParseError(f"{metric_type} must be on a k8s_container resource")
    labels = resource.get("labels")
    if not isinstance(labels, dict):
        raise ParseError("resource.labels missing")
    missing = [n for n in _RESOURCE_LABELS if n != "location" and not labels.get(n)]
    if missing:
        raise ParseError(f"resource.labels lacks {missing}")
    metric_labels = metric.get("labels")
    metric_labels = metric_labels if isinstance(metric_labels, dict) else {}
    if metric_type == MEMORY_METRIC and metric_labels.get("memory_type") == "evictable":
        return []
    points = series.get("points")
    if not isinstance(points, list) or not points:
        raise ParseError("TimeSeries has no points")
    if metric_type == CPU_METRIC:
        measure = CPU
    elif metric_type == MEMORY_METRIC:
        measure = MEMORY
    else:
        kind = _METRIC_KINDS.get(str(series.get("metricKind", "CUMULATIVE")), "")
        if kind not in ("DELTA", "CUMULATIVE"):
            raise ParseError(f"{RESTART_METRIC} with unexpected metricKind {kind}")
        measure = RESTART_DELTA if kind == "DELTA" else RESTART_COUNT
    system = {}
    metadata = series.get("metadata")
    if isinstance(metadata, dict) and isinstance(metadata.get("systemLabels"), dict):
        system = metadata["systemLabels"]
    key = workload_key(
        str(labels["project_id"]),
        str(labels.get("location", "")),
        str(labels["cluster_name"]),
        str(labels["namespace_name"]),
        str(labels["pod_name"]),
        controller_kind=str(system.get("top_level_controller_type", "")),
        controller_name=str(system.get("top_level_controller_name", "")),
    )
    pod, container = str(labels["pod_name"]), str(labels["container_name"])
    return [
        Observation(key, pod, container, _point_time(p, i, measure == RESTART_DELTA), measure, _point_value(p, i))
        for i, p in enumerate(points)
    ]


def parse_metric_line(line: str | bytes) -> list[Observation]:
    try:
        series = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ParseError(f"not JSON: {exc}") from exc
    return parse_time_series(series)
