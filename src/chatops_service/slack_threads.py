"""Slack bot-token delivery: one thread per incident per destination.

The first notification of an incident opens the thread with the full message; each later one
is a reply in the thread (failures, escalations and approvals are also broadcast to the
channel), and the first message is updated in place (``chat.update``) with the current state,
timeline and buttons. The thread's channel/ts, timeline and latest notification are kept in
the state store so any instance, and a click handled by the public service, can update it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from chatops_service.chat_actions import ActionRef, available_actions
from chatops_service.delivery_records import DeliveryRecord, record_from
from chatops_service.retrying import Attempt, RetryOutcome
from chatops_service.routing import Destination
from chatops_service.senders import SlackBotSender
from chatops_service.slack_message import SlackMessage, build_message, build_thread_reply
from chatops_service.state import StateStore, ThreadRecord
from chatops_service.structured_log import log_event
from chatops_service.wording import MessageContent, describe
from healing_contract.notification import Notification, parse_notification

log = logging.getLogger("chatops_service.delivery")

BROADCAST_OUTCOMES = ("failed", "escalated", "held_for_approval")
THREAD_OPEN_TTL_SECONDS = 30.0

Retry = Callable[[Callable[[], Attempt]], RetryOutcome]


class SlackThreads:
    def __init__(
        self,
        state: StateStore,
        *,
        slack_api_base_url: str,
        http_timeout: float,
        retry: Retry,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._state = state
        self._api_base = slack_api_base_url
        self._timeout = http_timeout
        self._retry = retry
        self._sleep = sleep
        self._clock = clock

    def deliver(
        self,
        n: Notification,
        dest: Destination,
        content: MessageContent,
        *,
        quiet: bool,
        acknowledged_by: str,
    ) -> DeliveryRecord:
        sender = self._bot(dest)
        incident = n.incident.incident_id
        entry = f"{datetime.fromtimestamp(self._clock(), tz=UTC):%H:%M} {content.state_label}"
        latest = json.dumps(n.to_dict(), separators=(",", ":"))
        thread = self._state.get_thread(incident, dest.name) or self._wait_for_thread_opener(incident, dest.name)
        if thread is None:
            if quiet:
                return DeliveryRecord(dest.name, dest.kind, "suppressed_acknowledged")
            message = thread_head(n, dest, content, (entry,), acknowledged_by)
            outcome = self._retry(lambda: sender.post_message(dest.channel, message.text, message.block_dicts()))
            if outcome.ok:
                data = outcome.data or {}
                thread = ThreadRecord(
                    channel=str(data.get("channel") or dest.channel),
                    ts=str(data.get("ts", "")),
                    timeline=(entry,),
                    notification=latest,
                )
                self._state.put_thread(incident, dest.name, thread)
            else:
                self._state.release(self._opener_key(incident, dest.name))
            return record_from(dest, outcome, thread_ts=thread.ts if thread else "")

        timeline = (*thread.timeline, entry)[-20:]
        record = DeliveryRecord(dest.name, dest.kind, "suppressed_acknowledged", thread_ts=thread.ts)
        if not quiet:
            reply = build_thread_reply(content)
            outcome = self._retry(
                lambda: sender.post_message(
                    thread.channel,
                    reply.text,
                    reply.block_dicts(),
                    thread_ts=thread.ts,
                    broadcast=n.decision.outcome in BROADCAST_OUTCOMES,
                )
            )
            record = record_from(dest, outcome, thread_ts=thread.ts)
            if record.failed:
                return record
        updated = ThreadRecord(thread.channel, thread.ts, timeline, latest)
        self._state.put_thread(incident, dest.name, updated)
        self._update_head(dest, updated, thread_head(n, dest, content, timeline, acknowledged_by))
        return record

    def refresh_head(self, incident_id: str, dest: Destination) -> bool:
        """Re-render the first message of an incident's thread (after an acknowledgement, say)."""
        thread = self._state.get_thread(incident_id, dest.name)
        if thread is None or not thread.notification or dest.kind != "slack_bot":
            return False
        n = parse_notification(json.loads(thread.notification))
        acknowledged_by = self._state.acknowledged_by(incident_id)
        message = thread_head(n, dest, describe(n), thread.timeline, acknowledged_by)
        return self._update_head(dest, thread, message)

    def _update_head(self, dest: Destination, thread: ThreadRecord, message: SlackMessage) -> bool:
        sender = self._bot(dest)
        update = self._retry(
            lambda: sender.update_message(thread.channel, thread.ts, message.text, message.block_dicts())
        )
        if not update.ok:  # replies are in the thread; a stale first message is logged, not fatal
            log_event(
                log,
                logging.ERROR,
                "could not update the first message of the incident thread",
                destination=dest.name,
                thread_ts=thread.ts,
                error=update.error,
            )
        return update.ok

    def _bot(self, dest: Destination) -> SlackBotSender:
        return SlackBotSender(dest.secret, self._api_base, self._timeout)

    def _opener_key(self, incident: str, destination: str) -> str:
        return f"thread-open:{incident}:{destination}"

    def _wait_for_thread_opener(self, incident: str, destination: str) -> ThreadRecord | None:
        """None when this call may open the thread; otherwise wait briefly for the one that is opening it."""
        if self._state.claim(self._opener_key(incident, destination), THREAD_OPEN_TTL_SECONDS):
            return None
        for _ in range(25):
            self._sleep(0.2)
            thread = self._state.get_thread(incident, destination)
            if thread is not None:
                return thread
        return None


def thread_head(
    n: Notification, dest: Destination, content: MessageContent, timeline: Sequence[str], acknowledged_by: str
) -> SlackMessage:
    """The full message for a Slack destination; no buttons where nobody is allowed to press them."""
    actions = [a for a in available_actions(n, dest.actions) if not (a == "acknowledge" and acknowledged_by)]
    if not (dest.allowed_users or dest.allowed_groups):
        actions = []
    ref = ActionRef.from_notification(n, dest.name)
    return build_message(content, ref, actions, timeline=timeline, acknowledged_by=acknowledged_by)
