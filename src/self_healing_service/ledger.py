"""The ledger: the healer's shared memory across instances and redeliveries.

It answers four questions atomically, so several healer instances receiving copies of
the same incident at the same moment still act once:

- *claim*: has this (incident, state, target) been decided already, or is someone on it?
- *reserve*: may an action on this target happen now (cooldown, budgets, circuit breaker)?
- *control*: is the target silenced or paused, is an action held for approval?
- *history*: what was decided, by whom, and was the human told?

:class:`InMemoryLedger` serves a single local process; ``ledger_firestore.FirestoreLedger``
serves a fleet of Cloud Run instances (and tests against the Firestore emulator).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Claim:
    status: str  # "new" | "in_progress" | "done"
    record: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BudgetRule:
    """At most ``limit`` actions per ``window_seconds`` in ``scope_key``."""

    scope_key: str
    limit: int
    window_seconds: float
    reason: str  # reason code reported when the rule refuses, e.g. "budget_deployment_hour"
    description: str  # human wording, e.g. "3 restarts per Deployment per hour"


@dataclass(frozen=True)
class Reservation:
    ok: bool
    reason: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Silence:
    target_key: str
    until: float
    actor: str
    reason: str


class Ledger(Protocol):
    # ---- idempotency
    def claim(self, key: str, owner: str, now: float, lease_seconds: float) -> Claim: ...
    def complete(self, key: str, record: dict[str, Any]) -> None: ...
    def release(self, key: str, owner: str) -> None: ...
    def update_record(self, key: str, changes: dict[str, Any]) -> None: ...
    def get_record(self, key: str) -> dict[str, Any] | None: ...

    # ---- guards
    def reserve(
        self, target_key: str, incident_id: str, cooldown_seconds: float, rules: Sequence[BudgetRule], now: float
    ) -> Reservation: ...

    # ---- control state
    def set_silence(self, silence: Silence) -> None: ...
    def clear_silence(self, target_key: str) -> bool: ...
    def active_silence(self, target_key: str, now: float) -> Silence | None: ...
    def list_silences(self, now: float) -> list[Silence]: ...
    def first_control_request(self, request_id: str, now: float) -> bool: ...

    # ---- history
    def append_decision(self, record: dict[str, Any]) -> None: ...
    def recent_decisions(self, *, target_key: str = "", limit: int = 20) -> list[dict[str, Any]]: ...
    def save_change(self, target_key: str, change: dict[str, Any]) -> None: ...
    def last_change(self, target_key: str) -> dict[str, Any] | None: ...

    def put_state(self, collection: str, key: str, value: dict[str, Any]) -> None: ...
    def get_state(self, collection: str, key: str) -> dict[str, Any] | None: ...
    def delete_state(self, collection: str, key: str) -> bool: ...
    def list_state(self, collection: str) -> list[dict[str, Any]]: ...


def check_reservation(
    target_state: dict[str, Any] | None,
    scope_states: dict[str, list[float]],
    incident_id: str,
    cooldown_seconds: float,
    rules: Sequence[BudgetRule],
    now: float,
) -> Reservation:
    """The pure rule both ledgers apply inside their atomic section."""
    if target_state:
        last_at = float(target_state.get("last_action_at") or 0.0)
        same_incident = target_state.get("last_incident_id") == incident_id
        if not same_incident and now - last_at < cooldown_seconds:
            remaining = int(cooldown_seconds - (now - last_at))
            return Reservation(
                False,
                "cooldown",
                f"the healer acted on this target {int(now - last_at)}s ago; cooldown is "
                f"{int(cooldown_seconds)}s ({remaining}s left)",
            )
    for rule in rules:
        recent = [t for t in scope_states.get(rule.scope_key, []) if now - t < rule.window_seconds]
        if len(recent) >= rule.limit:
            return Reservation(False, rule.reason, f"budget spent: {rule.description} ({len(recent)} used)")
    return Reservation(True)


def scope_windows(rules: Sequence[BudgetRule]) -> dict[str, float]:
    """Each budget scope with the longest window any rule needs kept for it."""
    windows: dict[str, float] = {}
    for rule in rules:
        windows[rule.scope_key] = max(windows.get(rule.scope_key, 0.0), rule.window_seconds)
    return windows


class InMemoryLedger:
    """A ledger for one local process (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, dict[str, Any]] = {}
        self._targets: dict[str, dict[str, Any]] = {}
        self._scopes: dict[str, list[float]] = {}
        self._silences: dict[str, Silence] = {}
        self._control_requests: dict[str, float] = {}
        self._decisions: list[dict[str, Any]] = []
        self._changes: dict[str, dict[str, Any]] = {}
        self._state: dict[str, dict[str, dict[str, Any]]] = {}

    def claim(self, key: str, owner: str, now: float, lease_seconds: float) -> Claim:
        with self._lock:
            record = self._records.get(key)
            if record is not None:
                if record.get("status") == "done":
                    return Claim("done", dict(record))
                if float(record.get("lease_until", 0)) > now:
                    return Claim("in_progress", dict(record))
            self._records[key] = {"status": "claimed", "owner": owner, "lease_until": now + lease_seconds}
            return Claim("new")

    def complete(self, key: str, record: dict[str, Any]) -> None:
        with self._lock:
            self._records[key] = {**record, "status": "done"}

    def release(self, key: str, owner: str) -> None:
        with self._lock:
            record = self._records.get(key)
            if record is not None and record.get("status") == "claimed" and record.get("owner") == owner:
                del self._records[key]

    def update_record(self, key: str, changes: dict[str, Any]) -> None:
        with self._lock:
            self._records.setdefault(key, {}).update(changes)

    def get_record(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            record = self._records.get(key)
            return dict(record) if record is not None else None

    def reserve(
        self, target_key: str, incident_id: str, cooldown_seconds: float, rules: Sequence[BudgetRule], now: float
    ) -> Reservation:
        with self._lock:
            verdict = check_reservation(
                self._targets.get(target_key), self._scopes, incident_id, cooldown_seconds, rules, now
            )
            if verdict.ok:
                self._targets[target_key] = {"last_action_at": now, "last_incident_id": incident_id}
                for scope_key, window in scope_windows(rules).items():
                    kept = [t for t in self._scopes.get(scope_key, []) if now - t < window]
                    self._scopes[scope_key] = [*kept, now]
            return verdict

    def set_silence(self, silence: Silence) -> None:
        with self._lock:
            self._silences[silence.target_key] = silence

    def clear_silence(self, target_key: str) -> bool:
        with self._lock:
            return self._silences.pop(target_key, None) is not None

    def active_silence(self, target_key: str, now: float) -> Silence | None:
        with self._lock:
            silence = self._silences.get(target_key)
            return silence if silence is not None and silence.until > now else None

    def list_silences(self, now: float) -> list[Silence]:
        with self._lock:
            return [s for s in self._silences.values() if s.until > now]

    def first_control_request(self, request_id: str, now: float) -> bool:
        with self._lock:
            if request_id in self._control_requests:
                return False
            self._control_requests[request_id] = now
            return True

    def append_decision(self, record: dict[str, Any]) -> None:
        with self._lock:
            self._decisions.append(dict(record))
            if len(self._decisions) > 10_000:
                del self._decisions[:1000]

    def recent_decisions(self, *, target_key: str = "", limit: int = 20) -> list[dict[str, Any]]:
        with self._lock:
            rows = [d for d in self._decisions if not target_key or d.get("target_key") == target_key]
            return [dict(d) for d in rows[-limit:][::-1]]

    def save_change(self, target_key: str, change: dict[str, Any]) -> None:
        with self._lock:
            self._changes[target_key] = dict(change)

    def last_change(self, target_key: str) -> dict[str, Any] | None:
        with self._lock:
            change = self._changes.get(target_key)
            return dict(change) if change is not None else None

    def put_state(self, collection: str, key: str, value: dict[str, Any]) -> None:
        with self._lock:
            self._state.setdefault(collection, {})[key] = dict(value)

    def get_state(self, collection: str, key: str) -> dict[str, Any] | None:
        with self._lock:
            value = self._state.get(collection, {}).get(key)
            return dict(value) if value is not None else None

    def delete_state(self, collection: str, key: str) -> bool:
        with self._lock:
            return self._state.get(collection, {}).pop(key, None) is not None

    def list_state(self, collection: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(v) for v in self._state.get(collection, {}).values()]
