"""Deliver one notification to every destination its routes name, reliably and exactly once.

Per destination:

1. **De-duplicate** on ``notification_id``: a claim ``notify:<id>:<destination>`` is taken
   before sending and released if the delivery fails, so the healer's retry re-sends only
   to the destinations that did not get it.
2. **Acknowledged incidents** get no further *repeat* notifications: outcomes in
   :data:`QUIET_AFTER_ACK` (refused, dry_run, ignored, acted) are not posted. State changes
   that matter to a human (held_for_approval, failed, verified, escalated, closed) are.
   With a bot token the first message of the thread is still updated in place, silently.
3. **Deliver** with retries (429/5xx, ``Retry-After``); with a bot token all messages for
   an incident go in one thread and the first message is updated with the current state.
4. **Log** the outcome as one structured line.

The caller answers 5xx when any destination failed, so nothing is dropped silently.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chatops_service.chat_actions import ActionRef, available_actions
from chatops_service.retrying import Attempt, RetryOutcome, RetryPolicy, WaitBudget, run_with_retries
from chatops_service.routing import Destination
from chatops_service.senders import SlackBotSender, SlackWebhookSender, TeamsWorkflowSender
from chatops_service.settings import Settings
from chatops_service.signed_links import link_url, sign_link_token
from chatops_service.slack_message import SlackMessage, build_message, build_thread_reply
from chatops_service.state import StateStore, ThreadRecord
from chatops_service.structured_log import log_event
from chatops_service.teams_card import CardLink, CardTooLargeError, build_card_payload
from chatops_service.wording import MessageContent, describe
from healing_contract.notification import Notification, parse_notification

log = logging.getLogger("chatops_service.delivery")

QUIET_AFTER_ACK = ("refused", "dry_run", "ignored", "acted")
BROADCAST_OUTCOMES = ("failed", "escalated", "held_for_approval")
DEDUPE_TTL_SECONDS = 7 * 24 * 3600
THREAD_OPEN_TTL_SECONDS = 30.0

_request_budget: ContextVar[WaitBudget | None] = ContextVar("delivery_wait_budget", default=None)


@dataclass(frozen=True)
class DeliveryRecord:
    destination: str
    kind: str
    outcome: str  # delivered | duplicate | suppressed_acknowledged | failed
    attempts: int = 0
    status: int | None = None
    error: str = ""
    retry_after: float | None = None
    thread_ts: str = ""

    @property
    def failed(self) -> bool:
        return self.outcome == "failed"

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"destination": self.destination, "kind": self.kind, "outcome": self.outcome}
        if self.attempts:
            doc["attempts"] = self.attempts
        if self.error:
            doc["error"] = self.error
        if self.thread_ts:
            doc["thread_ts"] = self.thread_ts
        return doc


@dataclass(frozen=True)
class NotifyReport:
    notification_id: str
    records: tuple[DeliveryRecord, ...]

    @property
    def ok(self) -> bool:
        return not any(r.failed for r in self.records)

    @property
    def retry_after(self) -> float | None:
        waits = [r.retry_after for r in self.records if r.failed and r.retry_after is not None]
        return max(waits) if waits else None


class Notifier:
    def __init__(
        self,
        settings: Settings,
        state: StateStore,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._state = state
        self._sleep = sleep
        self._clock = clock
        self._policy = RetryPolicy(
            attempts=settings.delivery_attempts,
            base_seconds=settings.backoff_base_seconds,
            max_seconds=settings.backoff_max_seconds,
            retry_after_max_seconds=settings.retry_after_max_seconds,
        )

    def notify(self, notification: Notification) -> NotifyReport:
        destinations = self._settings.routing.destinations_for(notification)
        token = _request_budget.set(WaitBudget(self._settings.delivery_wait_budget_seconds))
        try:
            records = tuple(self._deliver_once(notification, dest) for dest in destinations)
        finally:
            _request_budget.reset(token)
        return NotifyReport(notification.notification_id, records)

    # ------------------------------------------------------------------ per destination

    def _deliver_once(self, n: Notification, dest: Destination) -> DeliveryRecord:
        key = f"notify:{n.notification_id}:{dest.name}"
        try:
            claimed = self._state.claim(key, DEDUPE_TTL_SECONDS)
        except Exception as exc:  # the state store is down: do not risk a double post, ask for a retry
            record = DeliveryRecord(dest.name, dest.kind, "failed", error=f"state store unavailable: {exc}")
            self._log(n, record)
            return record
        if not claimed:
            record = DeliveryRecord(dest.name, dest.kind, "duplicate")
        else:
            try:
                record = self._deliver(n, dest)
            except Exception as exc:  # never lose a notification to a bug: report it as failed
                log.exception("delivery raised", extra={"json_fields": {"destination": dest.name}})
                record = DeliveryRecord(dest.name, dest.kind, "failed", error=f"{type(exc).__name__}: {exc}")
            if record.failed:
                with contextlib.suppress(Exception):  # an expired claim is released anyway
                    self._state.release(key)
        self._log(n, record)
        return record

    def _deliver(self, n: Notification, dest: Destination) -> DeliveryRecord:
        acknowledged_by = self._state.acknowledged_by(n.incident.incident_id)
        quiet = bool(acknowledged_by) and n.decision.outcome in QUIET_AFTER_ACK
        content = describe(n)
        if dest.kind == "slack_bot":
            return self._deliver_slack_thread(n, dest, content, quiet=quiet, acknowledged_by=acknowledged_by)
        if quiet:
            return DeliveryRecord(dest.name, dest.kind, "suppressed_acknowledged")
        if dest.kind == "slack_webhook":
            message = _thread_head(n, dest, content, (), acknowledged_by)
            sender = SlackWebhookSender(dest.secret, self._settings.http_timeout_seconds)
            outcome = self._retry(lambda: sender.post(message.payload()))
            return self._record(dest, outcome)
        return self._deliver_teams(n, dest, content)

    def _deliver_teams(self, n: Notification, dest: Destination, content: MessageContent) -> DeliveryRecord:
        ref = ActionRef.from_notification(n, dest.name)
        links = [
            CardLink(
                action,
                link_url(
                    self._settings.public_url,
                    sign_link_token(
                        self._settings.link_signing_key,
                        action,
                        ref,
                        now=self._clock(),
                        ttl_seconds=self._settings.link_ttl_seconds,
                    ),
                ),
            )
            for action in available_actions(n, dest.actions)
        ]
        try:
            payload = build_card_payload(content, links)
        except CardTooLargeError as exc:
            return DeliveryRecord(dest.name, dest.kind, "failed", error=str(exc))
        sender = TeamsWorkflowSender(dest.secret, self._settings.http_timeout_seconds)
        return self._record(dest, self._retry(lambda: sender.post(payload)))

    def _deliver_slack_thread(
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
            message = _thread_head(n, dest, content, (entry,), acknowledged_by)
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
            return self._record(dest, outcome, thread_ts=thread.ts if thread else "")

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
            record = self._record(dest, outcome, thread_ts=thread.ts)
            if record.failed:
                return record
        updated = ThreadRecord(thread.channel, thread.ts, timeline, latest)
        self._state.put_thread(incident, dest.name, updated)
        self._update_head(dest, updated, _thread_head(n, dest, content, timeline, acknowledged_by))
        return record

    def refresh_thread_head(self, incident_id: str, dest: Destination) -> bool:
        """Re-render the first message of an incident's thread (after an acknowledgement, say)."""
        thread = self._state.get_thread(incident_id, dest.name)
        if thread is None or not thread.notification or dest.kind != "slack_bot":
            return False
        n = parse_notification(json.loads(thread.notification))
        acknowledged_by = self._state.acknowledged_by(incident_id)
        message = _thread_head(n, dest, describe(n), thread.timeline, acknowledged_by)
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
        return SlackBotSender(dest.secret, self._settings.slack_api_base_url, self._settings.http_timeout_seconds)

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

    # ------------------------------------------------------------------ helpers

    def _retry(self, send: Callable[[], Attempt]) -> RetryOutcome:
        return run_with_retries(send, self._policy, self._sleep, budget=_request_budget.get(), on_retry=self._log_retry)

    @staticmethod
    def _log_retry(number: int, attempt: Attempt, wait: float) -> None:
        log_event(
            log,
            logging.WARNING,
            f"attempt {number} failed, retrying in {wait:.1f}s: {attempt.error}",
            event="delivery_retry",
            attempt=number,
            status=attempt.status,
            wait_seconds=wait,
        )

    @staticmethod
    def _record(dest: Destination, outcome: RetryOutcome, *, thread_ts: str = "") -> DeliveryRecord:
        return DeliveryRecord(
            destination=dest.name,
            kind=dest.kind,
            outcome="delivered" if outcome.ok else "failed",
            attempts=outcome.attempts,
            status=outcome.status,
            error=outcome.error,
            retry_after=outcome.retry_after,
            thread_ts=thread_ts,
        )

    @staticmethod
    def _log(n: Notification, record: DeliveryRecord) -> None:
        fields: dict[str, Any] = {
            "event": "delivery",
            "notification_id": n.notification_id,
            "incident_id": n.incident.incident_id,
            "outcome_of_decision": n.decision.outcome,
            "destination": record.destination,
            "destination_kind": record.kind,
            "delivery_outcome": record.outcome,
            "attempts": record.attempts,
            "status": record.status,
        }
        if record.error:
            fields["error"] = record.error
        level = logging.ERROR if record.failed else logging.INFO
        log_event(log, level, f"delivery to {record.destination}: {record.outcome}", **fields)


def _thread_head(
    n: Notification, dest: Destination, content: MessageContent, timeline: Sequence[str], acknowledged_by: str
) -> SlackMessage:
    actions = [a for a in available_actions(n, dest.actions) if not (a == "acknowledge" and acknowledged_by)]
    ref = ActionRef.from_notification(n, dest.name)
    return build_message(content, ref, actions, timeline=timeline, acknowledged_by=acknowledged_by)
