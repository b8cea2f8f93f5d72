"""Retry with exponential backoff that honours ``Retry-After``.

Pure apart from the injected ``sleep``. A send function reports each attempt as an
:class:`Attempt`; :func:`run_with_retries` retries retryable failures (HTTP 429,
5xx, connection errors) and stops early when the server asks for a longer wait
than we may spend inside one request, so the caller can answer 5xx with that
``Retry-After`` and let its own caller retry later.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_seconds: float = 0.5
    max_seconds: float = 8.0
    retry_after_max_seconds: float = 20.0

    def backoff(self, attempt: int) -> float:
        """Wait after failed attempt number ``attempt`` (1-based) when the server named no wait."""
        return min(self.max_seconds, self.base_seconds * (2 ** (attempt - 1)))


class WaitBudget:
    """Seconds one request may still spend waiting between attempts, shared by its destinations."""

    def __init__(self, seconds: float) -> None:
        self.remaining = seconds

    def take(self, seconds: float) -> bool:
        if seconds > self.remaining:
            return False
        self.remaining -= seconds
        return True


@dataclass(frozen=True)
class Attempt:
    ok: bool
    retryable: bool = False
    status: int | None = None
    error: str = ""
    retry_after: float | None = None
    data: Any = None


@dataclass(frozen=True)
class RetryOutcome:
    ok: bool
    attempts: int
    status: int | None
    error: str
    data: Any = None
    waits: tuple[float, ...] = field(default_factory=tuple)
    retry_after: float | None = None  # the last wait the server asked for, when we gave up because of it


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date); None if absent/invalid."""
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def retryable_status(status: int | None) -> bool:
    return status == 429 or (status is not None and 500 <= status <= 599)


def run_with_retries(
    send: Callable[[], Attempt],
    policy: RetryPolicy,
    sleep: Callable[[float], None] = time.sleep,
    *,
    budget: WaitBudget | None = None,
    on_retry: Callable[[int, Attempt, float], None] | None = None,
) -> RetryOutcome:
    """Call ``send`` until it succeeds, fails permanently, runs out of attempts or of waiting time."""
    waits: list[float] = []
    last = Attempt(ok=False, error="not attempted")
    number = 0
    for number in range(1, policy.attempts + 1):
        last = send()
        if last.ok:
            return RetryOutcome(True, number, last.status, "", last.data, tuple(waits))
        if not last.retryable or number == policy.attempts:
            break
        wait = policy.backoff(number) if last.retry_after is None else last.retry_after
        if wait > policy.retry_after_max_seconds or (budget is not None and not budget.take(wait)):
            return RetryOutcome(
                False,
                number,
                last.status,
                f"{last.error}; gave up instead of waiting {wait:.1f}s more inside this request",
                last.data,
                tuple(waits),
                retry_after=wait,
            )
        if on_retry is not None:
            on_retry(number, last, wait)
        waits.append(wait)
        sleep(wait)
    return RetryOutcome(False, number, last.status, last.error, last.data, tuple(waits), last.retry_after)
