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
import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from chatops_service import metrics
from chatops_service.chat_actions import ActionRef, available_actions
from chatops_service.delivery_records import DeliveryRecord, NotifyReport, record_from
from chatops_service.retrying import Attempt, RetryOutcome, RetryPolicy, WaitBudget, run_with_retries
from chatops_service.routing import Destination
from chatops_service.senders import SlackWebhookSender, TeamsWorkflowSender
from chatops_service.settings import Settings
from chatops_service.signed_links import link_url, sign_link_token
from chatops_service.slack_threads import SlackThreads, thread_head
from chatops_service.state import StateStore
from chatops_service.structured_log import log_event
from chatops_service.teams_card import CardLink, CardTooLargeError, build_card_payload
from chatops_service.wording import MessageContent, describe
from healing_contract.notification import Notification

log = logging.getLogger("chatops_service.delivery")

QUIET_AFTER_ACK = ("refused", "dry_run", "ignored", "acted")
DEDUPE_TTL_SECONDS = 7 * 24 * 3600

_request_budget: ContextVar[WaitBudget | None] = ContextVar("delivery_wait_budget", default=None)


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
        self._threads = SlackThreads(
            state,
            slack_api_base_url=settings.slack_api_base_url,
            http_timeout=settings.http_timeout_seconds,
            retry=self._retry,
            sleep=sleep,
            clock=clock,
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
            return self._threads.deliver(n, dest, content, quiet=quiet, acknowledged_by=acknowledged_by)
        if quiet:
            return DeliveryRecord(dest.name, dest.kind, "suppressed_acknowledged")
        if dest.kind == "slack_webhook":
            message = thread_head(n, dest, content, (), acknowledged_by)
            sender = SlackWebhookSender(dest.secret, self._settings.http_timeout_seconds)
            outcome = self._retry(lambda: sender.post(message.payload()))
            return record_from(dest, outcome)
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
        return record_from(dest, self._retry(lambda: sender.post(payload)))

    def refresh_thread_heads(self, incident_id: str) -> int:
        """Re-render the first message of the incident's thread in every Slack bot destination
        that has one (after an acknowledgement from Slack or Teams); returns how many."""
        bots = [d for d in self._settings.routing.destinations.values() if d.kind == "slack_bot"]
        return sum(1 for dest in bots if self._threads.refresh_head(incident_id, dest))

    # ------------------------------------------------------------------ helpers

    def _retry(self, send: Callable[[], Attempt]) -> RetryOutcome:
        return run_with_retries(send, self._policy, self._sleep, budget=_request_budget.get(), on_retry=self._log_retry)

    @staticmethod
    def _log_retry(number: int, attempt: Attempt, wait: float) -> None:
        metrics.DELIVERY_RETRIES.inc()
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
    def _log(n: Notification, record: DeliveryRecord) -> None:
        metrics.DELIVERIES.labels(record.kind, record.outcome).inc()
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
