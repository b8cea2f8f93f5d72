"""Cloud Logging ``LogEntry`` JSON (as a log sink delivers it) -> observations.

Handled:

* container logs: ``resource.type == "k8s_container"`` with its labels
  (project_id, location, cluster_name, namespace_name, pod_name,
  container_name). ``severity`` ERROR and above counts as an error log,
  WARNING as a warning log; other severities are not features.
* Kubernetes events: ``logName`` ``projects/P/logs/events`` with
  ``jsonPayload.kind == "Event"``, on ``resource.type`` ``k8s_pod`` (or another
  Kubernetes resource whose ``jsonPayload.involvedObject`` is a Pod). Reason
  ``OOMKilling``/``OOMKilled`` counts as an OOM kill; ``type: Warning`` events
  (BackOff, Unhealthy, ...) count as warnings.

Events that cannot be tied to a pod (node-level OOM reports) yield nothing;
records that are not LogEntry JSON raise :class:`ParseError`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from anomaly_detection_model.score_metric import MetricFormatError, parse_rfc3339
from dataflow.observations import (
    ERROR_LOG,
    OOM_KILLED,
    WARNING_LOG,
    Observation,
    ParseError,
    workload_key,
)

ERROR_SEVERITIES = frozenset({"ERROR", "CRITICAL", "ALERT", "EMERGENCY"})
WARNING_SEVERITIES = frozenset({"WARNING"})
OOM_REASONS = frozenset({"OOMKilling", "OOMKilled"})
_CONTAINER_FIELD_PATH = re.compile(r"spec\.(?:initContainers|containers)\{(?P<name>[^}]+)\}")


def _require_labels(resource: dict[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    labels = resource.get("labels")
    if not isinstance(labels, dict):
        raise ParseError(f"resource.labels missing on a {resource.get('type')} entry")
    missing = [n for n in names if not labels.get(n)]
    if missing:
        raise ParseError(f"resource.labels lacks {missing} on a {resource.get('type')} entry")
    return {k: str(v) for k, v in labels.items()}


def _timestamp(entry: dict[str, Any]) -> float:
    text = entry.get("timestamp") or entry.get("receiveTimestamp")
    if not text:
        raise ParseError("entry has neither timestamp nor receiveTimestamp")
    try:
        return parse_rfc3339(str(text)).timestamp()
    except MetricFormatError as exc:
        raise ParseError(str(exc)) from exc


def _is_event(entry: dict[str, Any]) -> bool:
    payload = entry.get("jsonPayload")
    log_name = str(entry.get("logName", ""))
    return isinstance(payload, dict) and (payload.get("kind") == "Event" or log_name.endswith("/logs/events"))


def _parse_container_log(entry: dict[str, Any]) -> list[Observation]:
    labels = _require_labels(
        entry["resource"],
        ("project_id", "cluster_name", "namespace_name", "pod_name", "container_name"),
    )
    severity = str(entry.get("severity", "DEFAULT")).upper()
    if severity in ERROR_SEVERITIES:
        measure = ERROR_LOG
    elif severity in WARNING_SEVERITIES:
        measure = WARNING_LOG
    else:
        return []
    key = workload_key(
        labels["project_id"],
        labels.get("location", ""),
        labels["cluster_name"],
        labels["namespace_name"],
        labels["pod_name"],
    )
    return [Observation(key, labels["pod_name"], labels["container_name"], _timestamp(entry), measure, 1.0)]


def _parse_event(entry: dict[str, Any]) -> list[Observation]:
    payload: dict[str, Any] = entry["jsonPayload"]
    resource = entry["resource"]
    labels = _require_labels(resource, ("project_id", "cluster_name"))
    involved = payload.get("involvedObject")
    involved = involved if isinstance(involved, dict) else {}
    pod_name = labels.get("pod_name", "")
    namespace = labels.get("namespace_name", "")
    if involved.get("kind") == "Pod":
        pod_name = str(involved.get("name") or pod_name)
        namespace = str(involved.get("namespace") or namespace)
    if not pod_name or not namespace:
        return []  # node- or cluster-level event: not attributable to a workload
    reason = str(payload.get("reason", ""))
    event_type = str(payload.get("type", ""))
    measures = []
    if reason in OOM_REASONS:
        measures.append(OOM_KILLED)
    if event_type == "Warning" or reason in OOM_REASONS:
        measures.append(WARNING_LOG)
    if not measures:
        return []
    container = ""
    if match := _CONTAINER_FIELD_PATH.search(str(involved.get("fieldPath", ""))):
        container = match["name"]
    key = workload_key(labels["project_id"], labels.get("location", ""), labels["cluster_name"], namespace, pod_name)
    when = _timestamp(entry)
    return [Observation(key, pod_name, container, when, m, 1.0) for m in measures]


def parse_log_entry(entry: Any) -> list[Observation]:
    """One LogEntry (decoded JSON) -> zero or more observations."""
    if not isinstance(entry, dict):
        raise ParseError(f"a LogEntry must be a JSON object, got {type(entry).__name__}")
    resource = entry.get("resource")
    if not isinstance(resource, dict) or not resource.get("type"):
        raise ParseError("LogEntry has no resource.type")
    if _is_event(entry):
        return _parse_event(entry)
    if resource["type"] == "k8s_container":
        return _parse_container_log(entry)
    return []


def parse_log_line(line: str | bytes) -> list[Observation]:
    """One JSON text (a file line or a Pub/Sub message body) -> observations."""
    try:
        entry = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ParseError(f"not JSON: {exc}") from exc
    return parse_log_entry(entry)
