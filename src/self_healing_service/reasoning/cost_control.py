"""Cost and rate control for model calls: call budgets, an answer cache, and a circuit breaker.

All three are in memory, per healer instance, thread-safe, and driven by an injectable
monotonic clock. With several Cloud Run instances the limits apply per instance, so the
policy's numbers are per instance too (set ``max-instances`` accordingly).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Generic, TypeVar

Clock = Callable[[], float]
T = TypeVar("T")

HOUR_SECONDS = 3600.0


class CallBudget:
    """At most ``per_incident`` calls for one incident and ``per_hour`` calls in any sliding hour."""

    def __init__(self, per_incident: int, per_hour: int, clock: Clock = time.monotonic, max_incidents: int = 4096):
        self._per_incident = per_incident
        self._per_hour = per_hour
        self._clock = clock
        self._max_incidents = max_incidents
        self._by_incident: OrderedDict[str, int] = OrderedDict()
        self._recent: deque[float] = deque()
        self._lock = threading.Lock()

    def try_acquire(self, incident_id: str) -> str | None:
        """Take one call from both budgets; returns ``None`` on success, else why not (one sentence)."""
        with self._lock:
            now = self._clock()
            while self._recent and now - self._recent[0] >= HOUR_SECONDS:
                self._recent.popleft()
            used = self._by_incident.get(incident_id, 0)
            if used >= self._per_incident:
                return f"incident {incident_id} already used its {self._per_incident} model call(s)"
            if len(self._recent) >= self._per_hour:
                return f"{self._per_hour} model calls were already made in the last hour"
            self._by_incident[incident_id] = used + 1
            self._by_incident.move_to_end(incident_id)
            while len(self._by_incident) > self._max_incidents:
                self._by_incident.popitem(last=False)
            self._recent.append(now)
            return None

    def calls_in_last_hour(self) -> int:
        with self._lock:
            now = self._clock()
            return sum(1 for t in self._recent if now - t < HOUR_SECONDS)


class AnswerCache(Generic[T]):
    """Answers keyed by incident fingerprint, each kept for ``ttl_seconds``; bounded in size (oldest out)."""

    def __init__(self, ttl_seconds: float, clock: Clock = time.monotonic, max_entries: int = 1024):
        self._ttl = ttl_seconds
        self._clock = clock
        self._max = max_entries
        self._entries: OrderedDict[str, tuple[float, T]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> T | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            stored_at, value = entry
            if self._clock() - stored_at >= self._ttl:
                del self._entries[key]
                return None
            return value

    def put(self, key: str, value: T) -> None:
        with self._lock:
            self._entries[key] = (self._clock(), value)
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


class Circuit:
    """Opens after ``failure_threshold`` consecutive service failures; stays open ``open_seconds``.

    After that one trial call is let through (half-open): success closes the circuit, failure
    opens it again for another ``open_seconds``.
    """

    def __init__(self, failure_threshold: int, open_seconds: float, clock: Clock = time.monotonic):
        self._threshold = failure_threshold
        self._open_seconds = open_seconds
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False
        self._lock = threading.Lock()

    def allow(self) -> str | None:
        """``None`` when a call may go out, else why not."""
        with self._lock:
            if self._opened_at is None:
                return None
            remaining = self._open_seconds - (self._clock() - self._opened_at)
            if remaining > 0:
                return f"the model endpoint failed {self._failures} times in a row; retry in {remaining:.0f} s"
            if self._trial_in_flight:
                return "a trial call to the model endpoint is in flight"
            self._trial_in_flight = True
            return None

    def cancel(self) -> None:
        """The call that :meth:`allow` let through was not made after all."""
        with self._lock:
            self._trial_in_flight = False

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_in_flight = False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            self._trial_in_flight = False
            if self._failures >= self._threshold:
                self._opened_at = self._clock()

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._opened_at is not None
