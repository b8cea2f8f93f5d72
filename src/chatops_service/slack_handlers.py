"""Slack interactivity (button clicks) and the ``/selfheal`` slash command.

Both answer Slack within its 3-second window: the healer call has a short timeout
(``CHATOPS_HEALER_TIMEOUT_SECONDS``). Results of clicks are posted visibly: into the
incident's thread for bot-token destinations, else through the click's
``response_url``; refusals go to the clicker only (ephemeral) and do nothing else.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from slack_sdk.webhook import WebhookClient

from chatops_service.chat_actions import SLACK_ACTION_PREFIX, ActionRef, control_command
from chatops_service.chat_control import ChatControl
from chatops_service.healer_client import HealerClient, HealerError
from chatops_service.routing import Destination, RoutingConfig
from chatops_service.selfheal_command import USAGE, CommandSyntaxError, parse_selfheal
from chatops_service.senders import SlackBotSender
from chatops_service.slack_message import escape
from chatops_service.slack_security import ChatAuthorizer, SlackRequestGuard
from healing_contract.control import Actor, ControlCommand
from healing_contract.notification import ContractError

log = logging.getLogger("chatops_service.slack")


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]


def _request_id(*parts: str) -> str:
    return "slack:" + hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def _form(body: bytes) -> dict[str, str]:
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        return {}
    return {k: v[0] for k, v in parsed.items() if v}


class SlackHandlers:
    def __init__(
        self,
        *,
        routing: RoutingConfig,
        guard: SlackRequestGuard,
        authorizer: ChatAuthorizer,
        control: ChatControl,
        healer: HealerClient,
        slack_api_base_url: str,
        http_timeout: float,
        on_acknowledged: Callable[[str, Destination], object] | None = None,
    ) -> None:
        self._routing = routing
        self._guard = guard
        self._authorizer = authorizer
        self._control = control
        self._healer = healer
        self._api_base = slack_api_base_url
        self._timeout = http_timeout
        self._on_acknowledged = on_acknowledged

    # ------------------------------------------------------------------ interactions

    def interaction(self, body: bytes, headers: Mapping[str, str]) -> Reply:
        check = self._guard.check(body, headers)
        if not check.ok:
            log.warning("refused Slack interaction", extra={"json_fields": {"reason": check.reason}})
            return Reply(401, {"error": check.reason})
        if check.is_retry:
            return Reply(200, {})
        raw = _form(body).get("payload")
        if raw is None:
            return Reply(400, {"error": "expected a form field 'payload' with the interaction JSON"})
        try:
            payload = json.loads(raw)
        except ValueError:
            return Reply(400, {"error": "the 'payload' field is not JSON"})
        if not isinstance(payload, dict) or payload.get("type") != "block_actions":
            kind = payload.get("type") if isinstance(payload, dict) else type(payload).__name__
            return Reply(400, {"error": f"unsupported interaction type {kind!r}; expected block_actions"})
        user = payload.get("user") or {}
        actions = payload.get("actions") or []
        if not isinstance(user, dict) or not user.get("id") or not isinstance(actions, list) or not actions:
            return Reply(400, {"error": "block_actions payload needs user.id and actions[]"})
        actor = Actor(id=str(user["id"]), display=str(user.get("username") or user.get("name") or ""), source="slack")
        response_url = str(payload.get("response_url") or "")
        container = payload.get("container") or {}
        channel = str(container.get("channel_id") or (payload.get("channel") or {}).get("id") or "")
        message_ts = str(container.get("message_ts") or (payload.get("message") or {}).get("ts") or "")
        for action in actions:
            if isinstance(action, dict):
                self._one_click(action, actor, response_url, channel, message_ts)
        return Reply(200, {})

    def _one_click(
        self, action: dict[str, Any], actor: Actor, response_url: str, channel: str, message_ts: str
    ) -> None:
        action_id = str(action.get("action_id", ""))
        name = action_id.removeprefix(SLACK_ACTION_PREFIX)
        if not action_id.startswith(SLACK_ACTION_PREFIX):
            return  # not one of our buttons (e.g. a link button): nothing to do
        try:
            ref = ActionRef.decode(str(action.get("value", "")))
        except ContractError as exc:
            self._ephemeral(response_url, f"This button is not valid: {exc}")
            return
        dest = self._routing.destinations.get(ref.destination)
        if dest is None or not dest.is_slack:
            self._ephemeral(response_url, f"This message's destination {ref.destination!r} is no longer configured.")
            return
        if name not in dest.actions or not self._authorizer.allowed(dest, actor.id):
            self._refuse(dest, actor, name, response_url)
            return
        request_id = _request_id(str(action.get("action_ts", "")), actor.id, action_id, message_ts, ref.encode())
        try:
            command = control_command(name, ref, actor, request_id)
        except ContractError as exc:
            self._ephemeral(response_url, f"Cannot {name}: {exc}")
            return
        outcome = self._control.run(command)
        if outcome.duplicate:
            return
        if outcome.ok and name == "acknowledge" and self._on_acknowledged is not None:
            self._on_acknowledged(ref.incident_id, dest)  # the first message now says who acknowledged
        text = f"✅ <@{actor.id}> {escape(outcome.text)}" if outcome.ok else f"⚠️ <@{actor.id}>: {escape(outcome.text)}"
        self._announce(dest, channel, message_ts, response_url, text)

    def _refuse(self, dest: Destination, actor: Actor, action: str, response_url: str) -> None:
        log.warning(
            "refused a Slack click",
            extra={
                "json_fields": {
                    "event": "chat_refused",
                    "actor_id": actor.id,
                    "action": action,
                    "destination": dest.name,
                }
            },
        )
        self._ephemeral(
            response_url,
            f"Sorry <@{actor.id}>, you are not allowed to {action} from this channel. "
            "Ask the on-call lead to add you (or your user group) to the ChatOps routing file.",
        )

    def _announce(self, dest: Destination, channel: str, thread_ts: str, response_url: str, text: str) -> None:
        if dest.kind == "slack_bot" and channel and thread_ts:
            sender = SlackBotSender(dest.secret, self._api_base, self._timeout)
            attempt = sender.post_message(channel, text, [], thread_ts=thread_ts)
            if attempt.ok:
                return
            log.warning(
                "could not post the click result in the thread",
                extra={"json_fields": {"error": attempt.error}},
            )
        self._respond(response_url, {"response_type": "in_channel", "replace_original": False, "text": text})

    def _ephemeral(self, response_url: str, text: str) -> None:
        self._respond(response_url, {"response_type": "ephemeral", "replace_original": False, "text": text})

    def _respond(self, response_url: str, body: dict[str, Any]) -> None:
        if not response_url.startswith(("https://", "http://")):
            log.warning("no response_url to answer the click", extra={"json_fields": {"text": body.get("text")}})
            return
        try:
            resp = WebhookClient(response_url, timeout=max(1, round(self._timeout))).send_dict(body)
        except (OSError, ValueError) as exc:
            log.warning("could not answer through response_url", extra={"json_fields": {"error": str(exc)}})
            return
        if resp.status_code != 200:
            log.warning(
                "response_url refused the answer",
                extra={"json_fields": {"status": resp.status_code, "body": str(resp.body)[:200]}},
            )

    # ------------------------------------------------------------------ /selfheal

    def command(self, body: bytes, headers: Mapping[str, str]) -> Reply:
        early = _form(body)
        if early.get("ssl_check") == "1" and "command" not in early:
            return Reply(200, {})  # Slack checking our certificate: unsigned by design, and does nothing
        check = self._guard.check(body, headers)
        if not check.ok:
            log.warning("refused Slack command", extra={"json_fields": {"reason": check.reason}})
            return Reply(401, {"error": check.reason})
        if check.is_retry:
            return Reply(200, {"response_type": "ephemeral", "text": "Already handled."})
        form = _form(body)
        user_id, channel_id = form.get("user_id", ""), form.get("channel_id", "")
        if not user_id or not channel_id:
            return Reply(400, {"error": "slash command needs user_id and channel_id"})
        try:
            parsed = parse_selfheal(form.get("text", ""))
        except CommandSyntaxError as exc:
            return _ephemeral_reply(str(exc))
        if parsed.verb == "help":
            return _ephemeral_reply(USAGE)
        destinations = self._routing.slack_destinations_for_channel(channel_id)
        if not destinations:
            return _ephemeral_reply("This channel is not a ChatOps destination, so /selfheal is not available here.")
        if not any(self._authorizer.allowed(d, user_id) for d in destinations):
            log.warning(
                "refused a Slack command",
                extra={"json_fields": {"event": "chat_refused", "actor_id": user_id, "action": parsed.verb}},
            )
            return _ephemeral_reply(f"Sorry <@{user_id}>, you are not allowed to use /selfheal in this channel.")
        actor = Actor(id=user_id, display=form.get("user_name", ""), source="slack")
        try:
            if parsed.verb == "status":
                return _ephemeral_reply(_format_status(self._healer.status()))
            if parsed.verb == "history" and parsed.target is not None:
                data = self._healer.history(parsed.target.namespace, parsed.target.name, parsed.limit)
                return _ephemeral_reply(_format_history(parsed.target.key(), data))
        except HealerError as exc:
            return _ephemeral_reply(f"Could not ask the healer: {exc}")
        command = ControlCommand(
            command=parsed.verb,
            actor=actor,
            request_id=_request_id(form.get("trigger_id", ""), user_id, form.get("text", "")),
            target=parsed.target,
            duration_seconds=parsed.duration_seconds,
            note=f"/selfheal in {channel_id}",
        )
        outcome = self._control.run(command)
        if outcome.duplicate:
            return _ephemeral_reply("Already handled.")
        if not outcome.ok:
            return _ephemeral_reply(outcome.text)
        return Reply(200, {"response_type": "in_channel", "text": f"✅ <@{user_id}> {escape(outcome.text)}"})


def _ephemeral_reply(text: str) -> Reply:
    return Reply(200, {"response_type": "ephemeral", "text": text})


def _format_status(data: Mapping[str, Any]) -> str:
    lines = [f"*Healer status* — dry-run: {'on' if data.get('dry_run') else 'off'}"]
    for key, label in (
        ("paused", "Paused"),
        ("silenced", "Silenced"),
        ("pending_approvals", "Waiting for approval"),
    ):
        items = data.get(key) or []
        lines.append(f"*{label}:* " + (", ".join(escape(_item(i)) for i in items[:20]) if items else "none"))
    recent = data.get("recent") or []
    if recent:
        lines.append("*Recent decisions:*")
        lines += [f"• {escape(_item(r))}" for r in recent[:10]]
    return "\n".join(lines)


def _format_history(target: str, data: Mapping[str, Any]) -> str:
    decisions = data.get("decisions") or []
    if not decisions:
        return f"No healer decisions recorded for {escape(target)}."
    return f"*Healer history for {escape(target)}:*\n" + "\n".join(f"• {escape(_item(d))}" for d in decisions[:50])


def _item(item: object) -> str:
    if not isinstance(item, Mapping):
        return str(item)
    bits = []
    for key in (
        "decided_at",
        "target",
        "key",
        "outcome",
        "action",
        "reason",
        "actor",
        "until",
        "expires_at",
        "detail",
    ):
        value = item.get(key)
        if value not in (None, "", {}):
            bits.append(f"{key}={value}")
    return " ".join(bits) or json.dumps(item, default=str)[:200]
