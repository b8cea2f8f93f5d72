"""The ledger on Firestore, shared by every healer instance.

Claims and reservations run in Firestore transactions, so two instances receiving the
same incident at the same moment cannot both act, and two incidents on the same target
cannot both pass the cooldown. Works unchanged against the Firestore emulator
(``FIRESTORE_EMULATOR_HOST``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from google.api_core import exceptions as gexc
from google.cloud import firestore

from self_healing_service.errors import StateStoreUnavailable
from self_healing_service.ledger import (
    BudgetRule,
    Claim,
    Reservation,
    Silence,
    check_reservation,
    scope_windows,
)

T = TypeVar("T")
_TRANSIENT = (
    gexc.ServiceUnavailable,
    gexc.DeadlineExceeded,
    gexc.InternalServerError,
    gexc.TooManyRequests,
    gexc.Aborted,
    gexc.Unknown,
    gexc.RetryError,
)


def _doc_id(key: str) -> str:
    """Firestore ids may not contain '/': keep keys readable but safe."""
    return key.replace("/", "~")[:1400] or "_"


def _guard(fn: Callable[..., T]) -> Callable[..., T]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except _TRANSIENT as exc:
            raise StateStoreUnavailable(f"Firestore unavailable: {type(exc).__name__}: {exc}") from exc
        except (OSError, ValueError) as exc:
            if "transaction" in str(exc).lower() or isinstance(exc, OSError):
                raise StateStoreUnavailable(f"Firestore unavailable: {type(exc).__name__}: {exc}") from exc
            raise

    return wrapper


class FirestoreLedger:
    def __init__(self, project: str, database: str = "(default)", prefix: str = "healer") -> None:
        self._db = firestore.Client(project=project, database=database)
        self._prefix = prefix

    def _col(self, name: str) -> Any:
        return self._db.collection(f"{self._prefix}_{name}")

    # ------------------------------------------------------------ idempotency
    @_guard
    def claim(self, key: str, owner: str, now: float, lease_seconds: float) -> Claim:
        ref = self._col("incidents").document(_doc_id(key))

        @firestore.transactional
        def run(transaction: Any) -> Claim:
            snap = ref.get(transaction=transaction)
            if snap.exists:
                record = snap.to_dict() or {}
                if record.get("status") == "done":
                    return Claim("done", record)
                if float(record.get("lease_until", 0)) > now:
                    return Claim("in_progress", record)
            transaction.set(ref, {"status": "claimed", "owner": owner, "lease_until": now + lease_seconds, "key": key})
            return Claim("new")

        return run(self._db.transaction())

    @_guard
    def complete(self, key: str, record: dict[str, Any]) -> None:
        self._col("incidents").document(_doc_id(key)).set({**record, "status": "done", "key": key})

    @_guard
    def release(self, key: str, owner: str) -> None:
        ref = self._col("incidents").document(_doc_id(key))

        @firestore.transactional
        def run(transaction: Any) -> None:
            snap = ref.get(transaction=transaction)
            if snap.exists:
                record = snap.to_dict() or {}
                if record.get("status") == "claimed" and record.get("owner") == owner:
                    transaction.delete(ref)

        run(self._db.transaction())

    @_guard
    def update_record(self, key: str, changes: dict[str, Any]) -> None:
        self._col("incidents").document(_doc_id(key)).set(changes, merge=True)

    @_guard
    def get_record(self, key: str) -> dict[str, Any] | None:
        snap = self._col("incidents").document(_doc_id(key)).get()
        return snap.to_dict() if snap.exists else None

    # ------------------------------------------------------------ guards
    @_guard
    def reserve(
        self, target_key: str, incident_id: str, cooldown_seconds: float, rules: Sequence[BudgetRule], now: float
    ) -> Reservation:
        target_ref = self._col("targets").document(_doc_id(target_key))
        windows = scope_windows(rules)
        scope_refs = {scope: self._col("budgets").document(_doc_id(scope)) for scope in windows}

        @firestore.transactional
        def run(transaction: Any) -> Reservation:
            target_snap = target_ref.get(transaction=transaction)
            scope_states: dict[str, list[float]] = {}
            for scope, ref in scope_refs.items():
                snap = ref.get(transaction=transaction)
                scope_states[scope] = (
                    [float(t) for t in ((snap.to_dict() or {}).get("times") or [])] if snap.exists else []
                )
            verdict = check_reservation(
                target_snap.to_dict() if target_snap.exists else None,
                scope_states,
                incident_id,
                cooldown_seconds,
                rules,
                now,
            )
            if verdict.ok:
                transaction.set(
                    target_ref,
                    {"last_action_at": now, "last_incident_id": incident_id, "target_key": target_key},
                    merge=True,
                )
                for scope, ref in scope_refs.items():
                    kept = [t for t in scope_states[scope] if now - t < windows[scope]]
                    transaction.set(ref, {"times": [*kept, now], "scope": scope})
            return verdict

        return run(self._db.transaction())

    # ------------------------------------------------------------ control state
    @_guard
    def set_silence(self, silence: Silence) -> None:
        self._col("silences").document(_doc_id(silence.target_key)).set(
            {"target_key": silence.target_key, "until": silence.until, "actor": silence.actor, "reason": silence.reason}
        )

    @_guard
    def clear_silence(self, target_key: str) -> bool:
        ref = self._col("silences").document(_doc_id(target_key))
        existed = bool(ref.get().exists)
        ref.delete()
        return existed

    @_guard
    def active_silence(self, target_key: str, now: float) -> Silence | None:
        snap = self._col("silences").document(_doc_id(target_key)).get()
        if not snap.exists:
            return None
        data = snap.to_dict() or {}
        silence = Silence(
            target_key, float(data.get("until", 0)), str(data.get("actor", "")), str(data.get("reason", ""))
        )
        return silence if silence.until > now else None

    @_guard
    def list_silences(self, now: float) -> list[Silence]:
        out = []
        for snap in self._col("silences").where(filter=firestore.FieldFilter("until", ">", now)).stream():
            data = snap.to_dict() or {}
            out.append(
                Silence(
                    str(data.get("target_key")),
                    float(data["until"]),
                    str(data.get("actor", "")),
                    str(data.get("reason", "")),
                )
            )
        return out

    @_guard
    def first_control_request(self, request_id: str, now: float) -> bool:
        try:
            self._col("control_requests").document(_doc_id(request_id)).create({"at": now})
        except gexc.AlreadyExists:
            return False
        except gexc.Conflict:
            return False
        return True

    # ------------------------------------------------------------ history
    @_guard
    def append_decision(self, record: dict[str, Any]) -> None:
        self._col("decisions").add(dict(record))
        target_key = str(record.get("target_key") or "")
        if target_key:
            self._col("targets").document(_doc_id(target_key)).collection("decisions").add(dict(record))

    @_guard
    def recent_decisions(self, *, target_key: str = "", limit: int = 20) -> list[dict[str, Any]]:
        col = (
            self._col("targets").document(_doc_id(target_key)).collection("decisions")
            if target_key
            else self._col("decisions")
        )
        query = col.order_by("decided_at", direction=firestore.Query.DESCENDING).limit(limit)
        return [snap.to_dict() or {} for snap in query.stream()]

    @_guard
    def save_change(self, target_key: str, change: dict[str, Any]) -> None:
        self._col("changes").document(_doc_id(target_key)).set(dict(change))

    @_guard
    def last_change(self, target_key: str) -> dict[str, Any] | None:
        snap = self._col("changes").document(_doc_id(target_key)).get()
        return snap.to_dict() if snap.exists else None

    @_guard
    def put_state(self, collection: str, key: str, value: dict[str, Any]) -> None:
        self._col(f"state_{collection}").document(_doc_id(key)).set(dict(value))

    @_guard
    def get_state(self, collection: str, key: str) -> dict[str, Any] | None:
        snap = self._col(f"state_{collection}").document(_doc_id(key)).get()
        return snap.to_dict() if snap.exists else None

    @_guard
    def delete_state(self, collection: str, key: str) -> bool:
        ref = self._col(f"state_{collection}").document(_doc_id(key))
        existed = bool(ref.get().exists)
        ref.delete()
        return existed

    @_guard
    def list_state(self, collection: str) -> list[dict[str, Any]]:
        return [snap.to_dict() or {} for snap in self._col(f"state_{collection}").stream()]
