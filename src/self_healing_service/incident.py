"""Parse a Pub/Sub push envelope carrying a Cloud Monitoring notification (schema 1.2).

Pure functions, no I/O. Anything malformed raises :class:`MalformedMessage` with a
message that says what is wrong; the route answers 400 so Pub/Sub dead-letters it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from healing_contract.notification import normalise_severity

SUPPORTED_RESOURCE_TYPES = ("k8s_container", "k8s_pod", "k8s_node")

# Incident kinds the healer knows. Derived from the policy's `incident-kind` user label
# when present, else from the metric and resource type.
KNOWN_KINDS = (
    "high_cpu",
    "crash_loop",
    "oom_killed",
    "memory_pressure",
    "anomaly",
    "node_not_ready",
    "failed_job",
    "evicted_pods",
    "high_load",
    "unknown",
)

_METRIC_KINDS = (
    ("anomaly_score", "anomaly"),
    ("cpu/limit_utilization", "high_cpu"),
    ("cpu/request_utilization", "high_cpu"),
    ("cpu/core_usage_time", "high_cpu"),
    ("restart_count", "crash_loop"),
    ("memory/limit_utilization", "oom_killed"),
    ("memory/used_bytes", "oom_killed"),
    ("node/status_condition", "node_not_ready"),
)


class MalformedMessage(ValueError):
    """The push envelope or the incident inside it is malformed."""


@dataclass(frozen=True)
class PushMessage:
    message_id: str
    publish_time: str
    subscription: str
    attributes: dict[str, str]
    data: bytes
    delivery_attempt: int


@dataclass(frozen=True)
class Incident:
    incident_id: str
    state: str  # "open" | "closed"
    kind: str
    resource_type: str
    resource_labels: dict[str, str]
    metric_type: str
    metric_labels: dict[str, str]
    system_labels: dict[str, str]
    user_labels: dict[str, str]  # metadata.user_labels merged with policy_user_labels
    policy_name: str = ""
    condition_name: str = ""
    severity: str = "unknown"
    summary: str = ""
    url: str = ""
    started_at: int | None = None
    ended_at: int | None = None
    observed_value: float | None = None
    threshold_value: float | None = None
    documentation: str = ""
    scoping_project_id: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def project_id(self) -> str:
        return self.resource_labels.get("project_id") or self.scoping_project_id

    @property
    def controller_name(self) -> str:
        return self.system_labels.get("top_level_controller_name") or self.metric_labels.get("controller_name", "")

    @property
    def controller_type(self) -> str:
        return self.system_labels.get("top_level_controller_type") or self.metric_labels.get("controller_kind", "")

    @property
    def model_version(self) -> str:
        return self.metric_labels.get("model_version", "")


@dataclass(frozen=True)
class ConsoleTestNotification:
    """The console's "send test notification" payload: acknowledged and ignored."""

    incident_id: str


def parse_push_envelope(body: bytes | str | Mapping[str, Any]) -> PushMessage:
    """Decode the wrapped push body Pub/Sub POSTs to the endpoint."""
    if isinstance(body, bytes | str):
        try:
            envelope = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise MalformedMessage(f"body is not JSON: {exc}") from exc
    else:
        envelope = body
    if not isinstance(envelope, Mapping):
        raise MalformedMessage("body must be a JSON object with a 'message' field")
    message = envelope.get("message")
    if not isinstance(message, Mapping):
        raise MalformedMessage("envelope.message is missing or not an object")
    data_b64 = message.get("data")
    if not isinstance(data_b64, str) or not data_b64:
        raise MalformedMessage("envelope.message.data is missing or empty")
    try:
        data = base64.b64decode(data_b64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MalformedMessage(f"envelope.message.data is not valid base64: {exc}") from exc
    attributes = message.get("attributes") or {}
    if not isinstance(attributes, Mapping):
        raise MalformedMessage("envelope.message.attributes must be an object")
    message_id = message.get("messageId") or message.get("message_id") or ""
    attempt = envelope.get("deliveryAttempt") or 0
    return PushMessage(
        message_id=str(message_id),
        publish_time=str(message.get("publishTime") or message.get("publish_time") or ""),
        subscription=str(envelope.get("subscription") or ""),
        attributes={str(k): str(v) for k, v in attributes.items()},
        data=data,
        delivery_attempt=attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else 0,
    )


def _mapping(value: object, where: str, *, required: bool = False) -> Mapping[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise MalformedMessage(f"{where} must be an object")
    return value


def _labels(value: object, where: str) -> dict[str, str]:
    mapping = _mapping(value, where)
    out: dict[str, str] = {}
    for key, item in mapping.items():
        if isinstance(item, Mapping | list):
            raise MalformedMessage(f"{where}.{key} must be a string")
        out[str(key)] = "" if item is None else str(item)
    return out


def _text(incident: Mapping[str, Any], key: str) -> str:
    value = incident.get(key)
    if value is None:
        return ""
    if isinstance(value, Mapping | list):
        raise MalformedMessage(f"incident.{key} must be a string")
    return str(value)


def _number(incident: Mapping[str, Any], key: str) -> float | None:
    value = incident.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MalformedMessage(f"incident.{key} must be a number or a numeric string")
    try:
        number = float(value)
    except ValueError as exc:
        raise MalformedMessage(f"incident.{key} is not a number: {value!r}") from exc
    if number != number or number in (float("inf"), float("-inf")):
        raise MalformedMessage(f"incident.{key} must be finite")
    return number


def _epoch(incident: Mapping[str, Any], key: str) -> int | None:
    number = _number(incident, key)
    if number is None:
        return None
    if number < 0 or number > 1e11:
        raise MalformedMessage(f"incident.{key} must be epoch seconds, got {number}")
    return int(number)


def derive_kind(user_labels: Mapping[str, str], metric_type: str, resource_type: str) -> str:
    label = (user_labels.get("incident-kind") or user_labels.get("incident_kind") or "").strip().lower()
    label = label.replace("-", "_")
    if label in KNOWN_KINDS:
        return label
    for fragment, kind in _METRIC_KINDS:
        if fragment in metric_type:
            return kind
    if resource_type == "k8s_node":
        return "node_not_ready"
    return "unknown"


def parse_notification(data: bytes) -> Incident | ConsoleTestNotification:
    """Parse the Cloud Monitoring notification carried in ``message.data``."""
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedMessage(f"message.data is not JSON: {exc}") from exc
    if not isinstance(doc, Mapping):
        raise MalformedMessage("message.data must be a JSON object with 'version' and 'incident'")
    version = doc.get("version")
    incident = doc.get("incident")
    if version == "test":
        inc = incident if isinstance(incident, Mapping) else {}
        return ConsoleTestNotification(incident_id=str(inc.get("incident_id") or ""))
    if version != "1.2":
        raise MalformedMessage(f"unsupported notification version {version!r} (expected '1.2' or 'test')")
    inc = _mapping(incident, "incident", required=True)

    incident_id = _text(inc, "incident_id").strip()
    if not incident_id:
        raise MalformedMessage("incident.incident_id is missing or empty")
    state = _text(inc, "state").strip().lower()
    if state not in ("open", "closed"):
        raise MalformedMessage(f"incident.state must be 'open' or 'closed', got {state!r}")

    resource = _mapping(inc.get("resource"), "incident.resource", required=True)
    resource_type = _text(resource, "type") if isinstance(resource.get("type"), str) else ""
    if resource_type not in SUPPORTED_RESOURCE_TYPES:
        raise MalformedMessage(
            f"incident.resource.type {resource_type!r} is not supported "
            f"(expected one of {', '.join(SUPPORTED_RESOURCE_TYPES)})"
        )
    resource_labels = _labels(resource.get("labels"), "incident.resource.labels")
    metric = _mapping(inc.get("metric"), "incident.metric")
    metric_type = str(metric.get("type") or "")
    metric_labels = _labels(metric.get("labels"), "incident.metric.labels")
    metadata = _mapping(inc.get("metadata"), "incident.metadata")
    system_labels = _labels(metadata.get("system_labels"), "incident.metadata.system_labels")
    user_labels = _labels(metadata.get("user_labels"), "incident.metadata.user_labels")
    user_labels.update(_labels(inc.get("policy_user_labels"), "incident.policy_user_labels"))

    documentation = inc.get("documentation")
    doc_text = ""
    if isinstance(documentation, Mapping):
        doc_text = str(documentation.get("content") or "")
    elif isinstance(documentation, str):
        doc_text = documentation

    return Incident(
        incident_id=incident_id,
        state=state,
        kind=derive_kind(user_labels, metric_type, resource_type),
        resource_type=resource_type,
        resource_labels=resource_labels,
        metric_type=metric_type,
        metric_labels=metric_labels,
        system_labels=system_labels,
        user_labels=user_labels,
        policy_name=_text(inc, "policy_name"),
        condition_name=_text(inc, "condition_name"),
        severity=normalise_severity(inc.get("severity")),
        summary=_text(inc, "summary"),
        url=_text(inc, "url"),
        started_at=_epoch(inc, "started_at"),
        ended_at=_epoch(inc, "ended_at"),
        observed_value=_number(inc, "observed_value"),
        threshold_value=_number(inc, "threshold_value"),
        documentation=doc_text[:4000],
        scoping_project_id=_text(inc, "scoping_project_id"),
        raw=dict(inc),
    )
