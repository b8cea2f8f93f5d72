"""The actions a human can take from a chat message, and how a button names its target.

Pure. The same :class:`ActionRef` travels in a Slack button's ``value`` and in a
signed Teams link, and becomes a :class:`ControlCommand` for the healer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from healing_contract.control import Actor, ControlCommand, ControlTarget
from healing_contract.notification import ContractError, Notification

SILENCE_SECONDS = 3600
BUTTON_LABELS = {
    "acknowledge": "Acknowledge",
    "silence": "Silence target 1h",
    "approve": "Approve",
    "undo": "Undo",
}
# The healer command each chat action becomes.
COMMAND_FOR_ACTION = {
    "acknowledge": "acknowledge",
    "silence": "silence",
    "approve": "approve",
    "undo": "undo",
}
SLACK_ACTION_PREFIX = "selfheal_"


@dataclass(frozen=True)
class ActionRef:
    """What a button acts on: the incident and the Deployment, and the destination it was shown in."""

    incident_id: str
    destination: str
    namespace: str = ""
    name: str = ""
    cluster: str = ""
    project_id: str = ""
    location: str = ""

    @classmethod
    def from_notification(cls, n: Notification, destination: str) -> ActionRef:
        t = n.target
        return cls(
            incident_id=n.incident.incident_id,
            destination=destination,
            namespace=t.namespace,
            name=t.name if t.kind in ("", "Deployment") else "",
            cluster=t.cluster,
            project_id=t.project_id,
            location=t.location,
        )

    @property
    def has_target(self) -> bool:
        return bool(self.namespace and self.name)

    def control_target(self) -> ControlTarget | None:
        if not self.has_target:
            return None
        return ControlTarget(
            namespace=self.namespace,
            name=self.name,
            cluster=self.cluster,
            project_id=self.project_id,
            location=self.location,
        )

    def to_compact(self) -> dict[str, str]:
        full = {
            "i": self.incident_id,
            "d": self.destination,
            "ns": self.namespace,
            "n": self.name,
            "c": self.cluster,
            "p": self.project_id,
            "l": self.location,
        }
        return {k: v for k, v in full.items() if v}

    def encode(self) -> str:
        return json.dumps(self.to_compact(), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_compact(cls, data: object) -> ActionRef:
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ContractError("action reference: expected an object of strings")
        if not data.get("i") or not data.get("d"):
            raise ContractError("action reference: incident ('i') and destination ('d') are required")
        return cls(
            incident_id=data["i"],
            destination=data["d"],
            namespace=data.get("ns", ""),
            name=data.get("n", ""),
            cluster=data.get("c", ""),
            project_id=data.get("p", ""),
            location=data.get("l", ""),
        )

    @classmethod
    def decode(cls, value: str) -> ActionRef:
        try:
            data = json.loads(value)
        except (TypeError, ValueError) as exc:
            raise ContractError("action reference: not JSON") from exc
        return cls.from_compact(data)


def available_actions(n: Notification, allowed: tuple[str, ...]) -> list[str]:
    """The buttons worth showing for this notification, in display order."""
    outcome = n.decision.outcome
    ref_has_target = bool(n.target.namespace and n.target.name and n.target.kind in ("", "Deployment"))
    actions: list[str] = []
    if n.incident.state == "open" and outcome not in ("closed", "ignored"):
        actions.append("acknowledge")
    if outcome == "held_for_approval":
        actions.append("approve")
    if ref_has_target and outcome not in ("closed",):
        actions.append("silence")
    if ref_has_target and outcome in ("acted", "verified", "failed") and not n.decision.dry_run:
        actions.append("undo")
    return [a for a in actions if a in allowed]


def control_command(action: str, ref: ActionRef, actor: Actor, request_id: str) -> ControlCommand:
    """The healer command for a chat action; raises :class:`ContractError` when it cannot apply."""
    command = COMMAND_FOR_ACTION.get(action)
    if command is None:
        raise ContractError(f"unknown action {action!r}")
    target = ref.control_target()
    if command in ("silence", "undo") and target is None:
        raise ContractError(f"{action} needs a Deployment target, and this message has none")
    return ControlCommand(
        command=command,
        actor=actor,
        request_id=request_id,
        target=target,
        incident_id=ref.incident_id,
        duration_seconds=SILENCE_SECONDS if command == "silence" else 0,
        note=f"from chat destination {ref.destination}",
    )
