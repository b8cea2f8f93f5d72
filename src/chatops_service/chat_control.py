"""Turn a click or a command into exactly one call to the healer's control API, and record it.

Shared by Slack buttons, ``/selfheal`` and Teams links. Each request carries a
``request_id`` derived from the click (Slack ``action_ts``, ``trigger_id``, or the
Teams link nonce); a claim on it makes a repeated delivery of the same click a no-op
here, and the healer applies each ``request_id`` once as well.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from chatops_service.healer_client import HealerClient, HealerError
from chatops_service.selfheal_command import format_duration
from chatops_service.state import StateStore
from chatops_service.structured_log import log_event
from healing_contract.control import ControlCommand

log = logging.getLogger("chatops_service.control")

REQUEST_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class ControlOutcome:
    ok: bool
    text: str  # what happened, without the actor: "silenced shop/checkout for 1h — <healer detail>"
    duplicate: bool = False
    unreachable: bool = False


def describe_command(command: ControlCommand) -> str:
    target = command.target.key().removeprefix("*/") if command.target else ""
    incident = f"incident {command.incident_id}" if command.incident_id else "the incident"
    return {
        "acknowledge": f"acknowledged {incident}",
        "silence": f"silenced {target} for {format_duration(command.duration_seconds)}",
        "unsilence": f"lifted the silence on {target}",
        "pause": f"paused healing of {target} for {format_duration(command.duration_seconds)}",
        "resume": f"resumed healing of {target}",
        "approve": f"approved the held action for {incident}",
        "undo": f"asked the healer to undo its last change to {target}",
    }.get(command.command, command.command)


class ChatControl:
    def __init__(
        self,
        healer: HealerClient,
        state: StateStore,
        on_acknowledged: Callable[[str], object] | None = None,
    ) -> None:
        """``on_acknowledged(incident_id)`` runs after an acknowledgement (to refresh chat messages)."""
        self._healer = healer
        self._state = state
        self._on_acknowledged = on_acknowledged

    def run(self, command: ControlCommand) -> ControlOutcome:
        key = f"control:{command.request_id}"
        if not self._state.claim(key, REQUEST_TTL_SECONDS):
            self._log(command, "duplicate", "")
            return ControlOutcome(True, "", duplicate=True)
        what = describe_command(command)
        who = command.actor.display or command.actor.id
        try:
            result = self._healer.send(command)
        except HealerError as exc:
            self._state.release(key)  # not applied (or unknown): let a retry through
            self._log(command, "unreachable", str(exc))
            return ControlOutcome(False, f"Could not do it: {exc}", unreachable=True)
        if not result.ok:
            self._log(command, "refused_by_healer", result.detail)
            return ControlOutcome(False, f"not done ({command.command}), the healer says: {result.detail}")
        if command.command == "acknowledge" and command.incident_id:
            self._state.acknowledge(command.incident_id, who)
            if self._on_acknowledged is not None:
                try:
                    self._on_acknowledged(command.incident_id)
                except Exception:  # the acknowledgement stands; a stale chat message is only cosmetic
                    log.exception("could not refresh chat messages after an acknowledgement")
        self._log(command, "applied", result.detail)
        detail = f" — {result.detail}" if result.detail else ""
        return ControlOutcome(True, f"{what}{detail}")

    @staticmethod
    def _log(command: ControlCommand, outcome: str, detail: str) -> None:
        fields = {
            "event": "chat_control",
            "command": command.command,
            "request_id": command.request_id,
            "actor_id": command.actor.id,
            "actor_display": command.actor.display,
            "actor_source": command.actor.source,
            "incident_id": command.incident_id,
            "target": command.target.key() if command.target else "",
            "control_outcome": outcome,
            "detail": detail,
        }
        level = logging.WARNING if outcome in ("unreachable",) else logging.INFO
        log_event(log, level, f"chat control {command.command} by {command.actor.id}: {outcome}", **fields)
