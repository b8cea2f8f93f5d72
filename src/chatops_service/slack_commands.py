"""The ``/selfheal`` slash command (``POST /slack/commands``).

Works in channels configured as Slack destinations, for the users allowed there. Status and
history are answered to the caller only; pause and resume are announced in the channel with
who did it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from chatops_service.chat_control import ChatControl
from chatops_service.healer_client import HealerClient, HealerError
from chatops_service.routing import RoutingConfig
from chatops_service.selfheal_command import USAGE, CommandSyntaxError, parse_selfheal
from chatops_service.selfheal_format import format_history, format_status
from chatops_service.slack_http import Reply, ephemeral, parse_form, request_id
from chatops_service.slack_message import escape
from chatops_service.slack_security import ChatAuthorizer, SlackRequestGuard
from healing_contract.control import Actor, ControlCommand

log = logging.getLogger("chatops_service.slack")


class SlackCommands:
    def __init__(
        self,
        *,
        routing: RoutingConfig,
        guard: SlackRequestGuard,
        authorizer: ChatAuthorizer,
        control: ChatControl,
        healer: HealerClient,
    ) -> None:
        self._routing = routing
        self._guard = guard
        self._authorizer = authorizer
        self._control = control
        self._healer = healer

    def handle(self, body: bytes, headers: Mapping[str, str]) -> Reply:
        early = parse_form(body)
        if early.get("ssl_check") == "1" and "command" not in early:
            return Reply(200, {})  # Slack checking our certificate: unsigned by design, and does nothing
        check = self._guard.check(body, headers)
        if not check.ok:
            log.warning("refused Slack command", extra={"json_fields": {"reason": check.reason}})
            return Reply(401, {"error": check.reason})
        if check.is_retry:
            return Reply(200, {"response_type": "ephemeral", "text": "Already handled."})
        form = parse_form(body)
        user_id, channel_id = form.get("user_id", ""), form.get("channel_id", "")
        if not user_id or not channel_id:
            return Reply(400, {"error": "slash command needs user_id and channel_id"})
        try:
            parsed = parse_selfheal(form.get("text", ""))
        except CommandSyntaxError as exc:
            return ephemeral(str(exc))
        if parsed.verb == "help":
            return ephemeral(USAGE)
        destinations = self._routing.slack_destinations_for_channel(channel_id)
        if not destinations:
            return ephemeral("This channel is not a ChatOps destination, so /selfheal is not available here.")
        if not any(self._authorizer.allowed(d, user_id) for d in destinations):
            log.warning(
                "refused a Slack command",
                extra={"json_fields": {"event": "chat_refused", "actor_id": user_id, "action": parsed.verb}},
            )
            return ephemeral(f"Sorry <@{user_id}>, you are not allowed to use /selfheal in this channel.")
        actor = Actor(id=user_id, display=form.get("user_name", ""), source="slack")
        try:
            if parsed.verb == "status":
                return ephemeral(format_status(self._healer.status()))
            if parsed.verb == "history" and parsed.target is not None:
                data = self._healer.history(parsed.target.namespace, parsed.target.name, parsed.limit)
                return ephemeral(format_history(parsed.target.key(), data))
        except HealerError as exc:
            return ephemeral(f"Could not ask the healer: {exc}")
        command = ControlCommand(
            command=parsed.verb,
            actor=actor,
            request_id=request_id(form.get("trigger_id", ""), user_id, form.get("text", "")),
            target=parsed.target,
            duration_seconds=parsed.duration_seconds,
            note=f"/selfheal in {channel_id}",
        )
        outcome = self._control.run(command)
        if outcome.duplicate:
            return ephemeral("Already handled.")
        if not outcome.ok:
            return ephemeral(outcome.text)
        return Reply(200, {"response_type": "in_channel", "text": f"✅ <@{user_id}> {escape(outcome.text)}"})
