"""The healer's control API contract, called by ChatOps when a human clicks or types.

Routes on the healer (private; caller authenticated with a Google ID token whose
``email`` is the ChatOps service account, audience = the healer's URL):

- ``POST /control/v1/commands`` body = :meth:`ControlCommand.to_dict`;
  answers 200 with :class:`ControlResult` JSON, 400 for a malformed command,
  404 when the incident/target it names is unknown, 409 when it cannot apply now
  (for example: Approve on an action that is no longer held).
- ``GET /control/v1/status`` -> ``{"dry_run": bool, "paused": [...], "silenced": [...],
  "pending_approvals": [...], "recent": [decision records]}``
- ``GET /control/v1/history?namespace=NS&name=DEPLOYMENT&limit=N`` -> ``{"decisions": [...]}``

Items: a silence/pause is ``{"target_key": "CLUSTER|*/NS/NAME", "until": epoch s, "actor", "reason"}``;
a pending approval ``{"incident_id", "target_key", "step", "action", "summary", "held_at"}``; a decision
record ``{"decided_at", "incident_id", "incident_state", "incident_kind", "namespace", "target_name",
"target_key", "action", "outcome", "reason" (see notification.REASON_CODES), "detail", "dry_run", "step",
"parameters", "actor", ...}`` (the healing-actions table's columns plus ``parameters``).

Every command is recorded by the healer with who did it (``actor``).
Pure data, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from healing_contract.notification import ContractError

COMMANDS = (
    "acknowledge",  # stop repeat notifications for an incident
    "silence",  # the healer refuses to act on the target until expiry (duration_seconds, default 3600)
    "unsilence",
    "pause",  # same effect as silence, from /selfheal pause; explicit duration required
    "resume",  # lifts a pause or silence on the target
    "approve",  # release an action the healer holds for approval (incident_id required)
    "undo",  # roll back the healer's last change to the target
)

MAX_DURATION_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class Actor:
    id: str  # Slack user id, or the Teams link's subject
    display: str = ""
    source: str = "slack"  # slack | teams | api


@dataclass(frozen=True)
class ControlTarget:
    namespace: str
    name: str  # Deployment name
    cluster: str = ""  # empty = the only / default cluster
    project_id: str = ""
    location: str = ""

    def key(self) -> str:
        return "/".join((self.cluster or "*", self.namespace, self.name))


@dataclass(frozen=True)
class ControlCommand:
    command: str
    actor: Actor
    request_id: str  # unique per click/command: the healer applies each request_id once
    target: ControlTarget | None = None
    incident_id: str = ""
    duration_seconds: int = 0
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ControlResult:
    ok: bool
    command: str
    detail: str
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _text(m: Mapping[str, Any], key: str, where: str, *, required: bool = False) -> str:
    value = m.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ContractError(f"{where}.{key}: expected a string, got {type(value).__name__}")
    if required and not value.strip():
        raise ContractError(f"{where}.{key}: required")
    return value.strip()


def parse_control_command(data: object) -> ControlCommand:
    """Validate a decoded JSON control command; :class:`ContractError` says what is wrong."""
    if not isinstance(data, Mapping):
        raise ContractError(f"command: expected an object, got {type(data).__name__}")
    command = _text(data, "command", "command", required=True)
    if command not in COMMANDS:
        raise ContractError(f"command.command: {command!r} is not one of {', '.join(COMMANDS)}")
    actor_raw = data.get("actor")
    if not isinstance(actor_raw, Mapping):
        raise ContractError("command.actor: required object with 'id'")
    actor = Actor(
        id=_text(actor_raw, "id", "command.actor", required=True),
        display=_text(actor_raw, "display", "command.actor"),
        source=_text(actor_raw, "source", "command.actor") or "slack",
    )
    target: ControlTarget | None = None
    target_raw = data.get("target")
    if target_raw is not None:
        if not isinstance(target_raw, Mapping):
            raise ContractError("command.target: expected an object")
        target = ControlTarget(
            namespace=_text(target_raw, "namespace", "command.target", required=True),
            name=_text(target_raw, "name", "command.target", required=True),
            cluster=_text(target_raw, "cluster", "command.target"),
            project_id=_text(target_raw, "project_id", "command.target"),
            location=_text(target_raw, "location", "command.target"),
        )
    duration = data.get("duration_seconds", 0) or 0
    if isinstance(duration, bool) or not isinstance(duration, int) or duration < 0:
        raise ContractError("command.duration_seconds: expected a non-negative whole number of seconds")
    if duration > MAX_DURATION_SECONDS:
        raise ContractError(f"command.duration_seconds: at most {MAX_DURATION_SECONDS} (7 days)")
    incident_id = _text(data, "incident_id", "command")
    if command in ("silence", "unsilence", "pause", "resume", "undo") and target is None:
        raise ContractError(f"command.target: required for {command}")
    if command == "pause" and duration == 0:
        raise ContractError("command.duration_seconds: required for pause")
    if command in ("approve", "acknowledge") and not incident_id:
        raise ContractError(f"command.incident_id: required for {command}")
    return ControlCommand(
        command=command,
        actor=actor,
        request_id=_text(data, "request_id", "command", required=True),
        target=target,
        incident_id=incident_id,
        duration_seconds=duration,
        note=_text(data, "note", "command"),
    )
