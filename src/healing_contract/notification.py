"""The versioned notification the healer sends to the ChatOps service.

One contract, used by both services: the healer builds a :class:`Notification`
and POSTs ``to_dict()`` as JSON to ChatOps ``/notify``; ChatOps parses it back
with :func:`parse_notification`, which rejects anything malformed with a
:class:`ContractError` whose message says exactly what is wrong.

Pure data, no I/O. Version ``1``. Adding optional fields is a compatible
change; removing or retyping a field needs a new ``schema_version``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from healing_contract.actions import ActionWording
from healing_contract.decision import REASON_TEXT, Outcome

SCHEMA_VERSION = "1"

# What happened (see decision.Outcome) and the machine reason codes (see decision.Reason).
OUTCOMES = tuple(str(outcome) for outcome in Outcome)

SEVERITIES = ("critical", "error", "warning", "info", "unknown")

# Machine reason codes in DecisionInfo.reason, so ChatOps can say what to do next.
# Acted decisions carry "policy:<rule name>"; model-proposed plans "reasoner_<disposition>".
REASON_CODES = {str(code): text for code, text in REASON_TEXT.items()}


class ContractError(ValueError):
    """A notification does not follow the contract; the message says where and why."""


@dataclass(frozen=True)
class IncidentInfo:
    incident_id: str
    state: str  # "open" | "closed"
    policy_name: str = ""
    condition_name: str = ""
    severity: str = "unknown"
    summary: str = ""
    url: str = ""
    started_at: int | None = None  # epoch seconds
    ended_at: int | None = None
    metric_type: str = ""
    observed_value: float | None = None
    threshold_value: float | None = None
    anomaly_score: float | None = None
    model_version: str = ""
    kind: str = ""  # incident kind the healer derived: high_cpu, crash_loop, oom_killed, anomaly, ...
    documentation: str = ""  # the alert policy's runbook text (markdown), truncated by the healer
    user_labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class TargetInfo:
    project_id: str = ""
    location: str = ""
    cluster: str = ""
    namespace: str = ""
    kind: str = ""  # Deployment | Pod | Node | Job
    name: str = ""  # the Deployment (or Node/Job) name
    pod: str = ""
    container: str = ""
    node: str = ""
    labels: dict[str, str] = field(default_factory=dict)

    def display(self) -> str:
        parts = [p for p in (self.cluster, self.namespace, self.name or self.pod or self.node) if p]
        return "/".join(parts) or "(unknown target)"


@dataclass(frozen=True)
class DecisionInfo:
    outcome: str
    action: str = ""  # restart | delete_pod | scale_out | rollback | raise_memory | drain_node | cleanup | ""
    reason: str = ""  # machine-friendly reason code, e.g. "cooldown", "budget_deployment_hour"
    detail: str = ""  # one human sentence: why
    dry_run: bool = False
    decided_at: float = 0.0  # epoch seconds
    parameters: dict[str, Any] = field(default_factory=dict)
    step: int = 0  # position on the policy's action ladder (0-based)
    needs_human: bool = False
    # how chat words the action (declared with the action in the healer's registry); optional
    wording: ActionWording = field(default_factory=ActionWording)


@dataclass(frozen=True)
class Links:
    incident: str = ""
    logs: str = ""
    evidence: str = ""
    runbook: str = ""


@dataclass(frozen=True)
class Notification:
    """Everything ChatOps needs to tell a human what the healer decided and why."""

    notification_id: str  # stable per (incident, state, target, step, outcome): ChatOps de-duplicates on it
    incident: IncidentInfo
    target: TargetInfo
    decision: DecisionInfo
    links: Links = field(default_factory=Links)
    healer_instance: str = ""
    schema_version: str = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def severity(self) -> str:
        return self.incident.severity


def normalise_severity(raw: object) -> str:
    """Map Cloud Monitoring's severity strings ("Critical", "no severity", ...) to ours."""
    text = str(raw or "").strip().lower()
    if text in SEVERITIES:
        return text
    if text in ("", "no severity", "none"):
        return "unknown"
    return {"crit": "critical", "err": "error", "warn": "warning"}.get(text[:4].rstrip("i"), "unknown")


# ---------------------------------------------------------------- parsing


def _require_mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ContractError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _str(m: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = m.get(key)
    if value is None:
        if required:
            raise ContractError(f"{where}.{key}: required")
        return ""
    if not isinstance(value, str):
        raise ContractError(f"{where}.{key}: expected a string, got {type(value).__name__}")
    if required and not value.strip():
        raise ContractError(f"{where}.{key}: must not be empty")
    return value


def _num(m: Mapping[str, Any], key: str, where: str) -> float | None:
    value = m.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ContractError(f"{where}.{key}: expected a number, got {type(value).__name__}")
    try:
        return float(value)
    except ValueError as exc:
        raise ContractError(f"{where}.{key}: {value!r} is not a number") from exc


def _int(m: Mapping[str, Any], key: str, where: str) -> int | None:
    number = _num(m, key, where)
    return None if number is None else int(number)


def _labels(m: Mapping[str, Any], key: str, where: str) -> dict[str, str]:
    value = m.get(key) or {}
    mapping = _require_mapping(value, f"{where}.{key}")
    return {str(k): str(v) for k, v in mapping.items()}


def _wording(value: object, where: str) -> ActionWording:
    if value is None:
        return ActionWording()
    doc = _require_mapping(value, where)
    return ActionWording(infinitive=_str(doc, "infinitive", where), past=_str(doc, "past", where))


def parse_notification(data: object) -> Notification:
    """Validate a decoded JSON document and build a :class:`Notification`.

    Raises :class:`ContractError` naming the first field that is wrong.
    """
    doc = _require_mapping(data, "notification")
    version = doc.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ContractError(f"notification.schema_version: expected {SCHEMA_VERSION!r}, got {version!r}")
    notification_id = _str(doc, "notification_id", "notification", required=True)

    inc = _require_mapping(doc.get("incident"), "notification.incident")
    where = "notification.incident"
    state = _str(inc, "state", where, required=True).lower()
    if state not in ("open", "closed"):
        raise ContractError(f"{where}.state: expected 'open' or 'closed', got {state!r}")
    severity = normalise_severity(_str(inc, "severity", where))
    incident = IncidentInfo(
        incident_id=_str(inc, "incident_id", where, required=True),
        state=state,
        policy_name=_str(inc, "policy_name", where),
        condition_name=_str(inc, "condition_name", where),
        severity=severity,
        summary=_str(inc, "summary", where),
        url=_str(inc, "url", where),
        started_at=_int(inc, "started_at", where),
        ended_at=_int(inc, "ended_at", where),
        metric_type=_str(inc, "metric_type", where),
        observed_value=_num(inc, "observed_value", where),
        threshold_value=_num(inc, "threshold_value", where),
        anomaly_score=_num(inc, "anomaly_score", where),
        model_version=_str(inc, "model_version", where),
        kind=_str(inc, "kind", where),
        documentation=_str(inc, "documentation", where),
        user_labels=_labels(inc, "user_labels", where),
    )

    tgt = _require_mapping(doc.get("target") or {}, "notification.target")
    where = "notification.target"
    target = TargetInfo(
        **{
            key: _str(tgt, key, where)
            for key in ("project_id", "location", "cluster", "namespace", "kind", "name", "pod", "container", "node")
        },
        labels=_labels(tgt, "labels", where),
    )

    dec = _require_mapping(doc.get("decision"), "notification.decision")
    where = "notification.decision"
    outcome = _str(dec, "outcome", where, required=True)
    if outcome not in OUTCOMES:
        raise ContractError(f"{where}.outcome: {outcome!r} is not one of {', '.join(OUTCOMES)}")
    dry_run = dec.get("dry_run", False)
    needs_human = dec.get("needs_human", False)
    if not isinstance(dry_run, bool) or not isinstance(needs_human, bool):
        raise ContractError(f"{where}.dry_run and {where}.needs_human must be true or false")
    params = _require_mapping(dec.get("parameters") or {}, f"{where}.parameters")
    decision = DecisionInfo(
        outcome=outcome,
        action=_str(dec, "action", where),
        reason=_str(dec, "reason", where),
        detail=_str(dec, "detail", where),
        dry_run=dry_run,
        decided_at=_num(dec, "decided_at", where) or 0.0,
        parameters=dict(params),
        step=_int(dec, "step", where) or 0,
        needs_human=needs_human,
        wording=_wording(dec.get("wording"), f"{where}.wording"),
    )

    lnk = _require_mapping(doc.get("links") or {}, "notification.links")
    links = Links(**{key: _str(lnk, key, "notification.links") for key in ("incident", "logs", "evidence", "runbook")})
    return Notification(
        notification_id=notification_id,
        incident=incident,
        target=target,
        decision=decision,
        links=links,
        healer_instance=_str(doc, "healer_instance", "notification"),
    )
