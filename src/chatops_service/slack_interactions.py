"""Slack button clicks (``POST /slack/interactions``, ``block_actions`` payloads).

Slack expects an answer within 3 seconds, so the healer call has a short timeout
(``CHATOPS_HEALER_TIMEOUT_SECONDS``). Results are posted visibly: into the incident's
thread for bot-token destinations, else through the click's ``response_url``; refusals
go to the clicker only (ephemeral) and do nothing else.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from slack_sdk.webhook import WebhookClient

from chatops_service.chat_actions import SLACK_ACTION_PREFIX, ActionRef, control_command
from chatops_service.chat_control import ChatControl
from chatops_service.routing import Destination, RoutingConfig
from chatops_service.senders import SlackBotSender
from chatops_service.slack_http import Reply, parse_form, request_id
from chatops_service.slack_message import escape
from chatops_service.slack_security import ChatAuthorizer, SlackRequestGuard
from healing_contract.control import Actor
from healing_contract.notification import ContractError

log = logging.getLogger("chatops_service.slack")


class SlackInteractions:
    def __init__(
        self,
        *,
        routing: RoutingConfig,
        guard: SlackRequestGuard,
        authorizer: ChatAuthorizer,
        control: ChatControl,
        slack_api_base_url: str,
        http_timeout: float,
    ) -> None:
        self._routing = routing
        self._guard = guard
        self._authorizer = authorizer
        self._control = control
        self._api_base = slack_api_base_url
        self._timeout = http_timeout

    def handle(self, body: bytes, headers: Mapping[str, str]) -> Reply:
        check = self._guard.check(body, headers)
        if not check.ok:
            log.warning("refused Slack interaction", extra={"json_fields": {"reason": check.reason}})
            return Reply(401, {"error": check.reason})
        if check.is_retry:
            return Reply(200, {})
        raw = parse_form(body).get("payload")
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
        click_id = request_id(str(action.get("action_ts", "")), actor.id, action_id, message_ts, ref.encode())
        try:
            command = control_command(name, ref, actor, click_id)
        except ContractError as exc:
            self._ephemeral(response_url, f"Cannot {name}: {exc}")
            return
        outcome = self._control.run(command)
        if outcome.duplicate:
            return
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
