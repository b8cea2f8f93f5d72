"""Who is calling from Slack, and may they act?

- :class:`SlackRequestGuard` checks every request with ``slack_sdk``'s
  ``SignatureVerifier`` (HMAC of ``v0:timestamp:body``, 5-minute window) and refuses a
  signature it has already seen (a replay inside the window).
- :class:`ChatAuthorizer` decides whether a Slack user may act for a destination:
  listed in ``allowed_users``, or a member of one of ``allowed_groups`` (read with the
  destination's bot token through ``usergroups.users.list``, cached for a few minutes).
  A destination that lists nobody allows nobody.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from slack_sdk.signature import Clock, SignatureVerifier

from chatops_service.routing import Destination
from chatops_service.senders import SlackBotSender
from chatops_service.state import StateStore

log = logging.getLogger("chatops_service.security")

REPLAY_WINDOW_SECONDS = 10 * 60  # longer than the 5-minute timestamp window
GROUP_CACHE_SECONDS = 300.0


@dataclass(frozen=True)
class GuardResult:
    ok: bool
    reason: str = ""
    is_retry: bool = False  # a signature we saw before, on a request Slack marked as a retry


class _InjectedClock(Clock):
    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock

    def now(self) -> float:
        return self._clock()


class SlackRequestGuard:
    def __init__(self, signing_secret: str, state: StateStore, clock: Callable[[], float] = time.time) -> None:
        self._verifier = SignatureVerifier(signing_secret, clock=_InjectedClock(clock)) if signing_secret else None
        self._state = state

    def check(self, body: bytes, headers: Mapping[str, str]) -> GuardResult:
        if self._verifier is None:
            return GuardResult(False, "Slack is not configured on this service (no signing secret)")
        lower = {k.lower(): v for k, v in headers.items()}
        timestamp = lower.get("x-slack-request-timestamp", "")
        signature = lower.get("x-slack-signature", "")
        if not timestamp or not signature:
            return GuardResult(False, "missing X-Slack-Signature or X-Slack-Request-Timestamp")
        if not timestamp.isdigit():
            return GuardResult(False, "X-Slack-Request-Timestamp is not a number")
        if not self._verifier.is_valid(body=body, timestamp=timestamp, signature=signature):
            return GuardResult(False, "invalid signature or timestamp outside the 5-minute window")
        if not self._state.claim(f"slack-signature:{signature}", REPLAY_WINDOW_SECONDS):
            if lower.get("x-slack-retry-num"):
                return GuardResult(True, "retry of a request already handled", is_retry=True)
            return GuardResult(False, "replayed request (this signature was already used)")
        return GuardResult(True)


class ChatAuthorizer:
    def __init__(self, slack_api_base_url: str, timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._base_url = slack_api_base_url
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}

    def allowed(self, destination: Destination, user_id: str) -> bool:
        if user_id in destination.allowed_users:
            return True
        return any(user_id in self._members(destination, group) for group in destination.allowed_groups)

    def _members(self, destination: Destination, group: str) -> frozenset[str]:
        with self._lock:
            cached = self._groups.get(group)
            if cached and cached[0] > self._clock():
                return cached[1]
        sender = SlackBotSender(destination.secret, self._base_url, self._timeout)
        attempt = sender.usergroup_members(group)
        if not attempt.ok:  # fail closed, and say why in the logs
            log.warning(
                "cannot read Slack user-group members; refusing members of that group",
                extra={
                    "json_fields": {
                        "usergroup": group,
                        "destination": destination.name,
                        "error": attempt.error,
                    }
                },
            )
            return frozenset()
        members = frozenset(attempt.data or ())
        with self._lock:
            self._groups[group] = (self._clock() + GROUP_CACHE_SECONDS, members)
        return members
