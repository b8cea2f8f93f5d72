"""The anomaly-score custom metric: its shape, and the local metric store.

Cloud: ``custom.googleapis.com/healer/anomaly_score`` (GAUGE, DOUBLE) on the
``k8s_container`` resource (project_id, location, cluster_name,
namespace_name, pod_name, container_name) with metric labels
``model_version``, ``controller_name`` and ``controller_kind``. One point per
series per window, written with ``create_time_series``.

Local: the same thing as Cloud Monitoring's TimeSeries JSON, one JSON line per
point appended to a file. :func:`read_points` is the reader the local alert
evaluator uses. Standard library only, so any service can import it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

METRIC_TYPE = "custom.googleapis.com/healer/anomaly_score"
RESOURCE_TYPE = "k8s_container"
RESOURCE_LABELS = ("project_id", "location", "cluster_name", "namespace_name", "pod_name", "container_name")
METRIC_LABELS = ("model_version", "controller_name", "controller_kind")
MAX_SERIES_PER_REQUEST = 200


class MetricFormatError(ValueError):
    """A metric line or score record is malformed; the message says where and what."""


@dataclass(frozen=True)
class ScorePoint:
    """One anomaly-score point for one workload series."""

    end_time: datetime
    value: float
    resource_labels: dict[str, str]
    metric_labels: dict[str, str]

    @property
    def series_key(self) -> tuple[tuple[str, str], ...]:
        return tuple(sorted(self.resource_labels.items())) + tuple(sorted(self.metric_labels.items()))


def rfc3339(moment: datetime) -> str:
    """UTC RFC 3339 with a ``Z`` suffix (microseconds kept only when non-zero)."""
    moment = moment.astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond:06d}"
    return text + "Z"


def parse_rfc3339(text: str) -> datetime:
    """RFC 3339 timestamps as Cloud APIs write them (``Z``, offsets, up to nanoseconds)."""
    if not isinstance(text, str) or not text:
        raise MetricFormatError(f"expected an RFC 3339 timestamp string, got {text!r}")
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    if "." in value:
        head, _, tail = value.partition(".")
        digits = ""
        rest = tail
        while rest and rest[0].isdigit():
            digits, rest = digits + rest[0], rest[1:]
        value = f"{head}.{(digits + '000000')[:6]}{rest}"
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise MetricFormatError(f"invalid RFC 3339 timestamp {text!r}") from exc
    if moment.tzinfo is None:
        raise MetricFormatError(f"timestamp {text!r} has no time zone")
    return moment.astimezone(UTC)


def to_time_series_json(point: ScorePoint) -> dict[str, Any]:
    """The point in Cloud Monitoring's TimeSeries JSON shape (exactly one point)."""
    return {
        "metric": {"type": METRIC_TYPE, "labels": dict(point.metric_labels)},
        "resource": {"type": RESOURCE_TYPE, "labels": dict(point.resource_labels)},
        "metricKind": "GAUGE",
        "valueType": "DOUBLE",
        "points": [{"interval": {"endTime": rfc3339(point.end_time)}, "value": {"doubleValue": point.value}}],
    }


def point_from_score(score: Mapping[str, Any]) -> ScorePoint:
    """A row of the ``anomaly_scores`` table -> its metric point."""
    try:
        end = score["window_end"]
        end_time = end if isinstance(end, datetime) else parse_rfc3339(str(end))
        value = float(score["score"])
    except KeyError as exc:
        raise MetricFormatError(f"score record lacks {exc.args[0]!r}") from exc
    if not math.isfinite(value):
        raise MetricFormatError(f"score must be a finite number, got {value!r}")
    resource = {
        "project_id": str(score.get("project_id") or ""),
        "location": str(score.get("location") or ""),
        "cluster_name": str(score.get("cluster") or ""),
        "namespace_name": str(score.get("namespace") or ""),
        "pod_name": str(score.get("pod_name") or ""),
        "container_name": str(score.get("container_name") or ""),
    }
    metric = {
        "model_version": str(score.get("model_version") or ""),
        "controller_name": str(score.get("controller_name") or ""),
        "controller_kind": str(score.get("controller_kind") or ""),
    }
    return ScorePoint(end_time=end_time, value=value, resource_labels=resource, metric_labels=metric)


def parse_time_series_json(data: Any, where: str = "line") -> list[ScorePoint]:
    """TimeSeries JSON (as written by :func:`to_time_series_json` or the API) -> points."""
    if not isinstance(data, dict):
        raise MetricFormatError(f"{where}: a TimeSeries must be a JSON object")
    metric = data.get("metric")
    resource = data.get("resource")
    if not isinstance(metric, dict) or not isinstance(metric.get("type"), str):
        raise MetricFormatError(f"{where}: metric.type is missing")
    if not isinstance(resource, dict) or not isinstance(resource.get("type"), str):
        raise MetricFormatError(f"{where}: resource.type is missing")
    points = data.get("points")
    if not isinstance(points, list) or not points:
        raise MetricFormatError(f"{where}: points must be a non-empty list")
    out = []
    for i, point in enumerate(points):
        try:
            end_time = parse_rfc3339(point["interval"]["endTime"])
            raw_value = point["value"]
            value = float(raw_value.get("doubleValue", raw_value.get("int64Value")))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise MetricFormatError(f"{where}: points[{i}] needs interval.endTime and a numeric value") from exc
        out.append(
            ScorePoint(
                end_time=end_time,
                value=value,
                resource_labels={str(k): str(v) for k, v in (resource.get("labels") or {}).items()},
                metric_labels={str(k): str(v) for k, v in (metric.get("labels") or {}).items()},
            )
        )
    return out


def append_points(path: Path, points: list[ScorePoint]) -> int:
    """Append points to the local metric store, one TimeSeries JSON line each."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        for point in points:
            handle.write(json.dumps(to_time_series_json(point), sort_keys=True) + "\n")
    return len(points)


def read_points(path: Path, metric_type: str | None = METRIC_TYPE) -> Iterator[tuple[str, ScorePoint]]:
    """Read the local metric store: yields ``(metric_type, point)`` in file order.

    ``metric_type=None`` yields every metric in the file. A malformed line raises
    :class:`MetricFormatError` naming its line number; a missing file yields nothing.
    """
    if not path.exists():
        return
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise MetricFormatError(f"{path}:{number}: not JSON ({exc.msg})") from exc
            kind = data.get("metric", {}).get("type") if isinstance(data, dict) else None
            if metric_type is not None and kind != metric_type:
                continue
            for point in parse_time_series_json(data, where=f"{path}:{number}"):
                yield str(kind), point
