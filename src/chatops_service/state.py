"""What the ChatOps service remembers between requests.

- claims: first-wins markers with an expiry, used for notification de-duplication
  (``notify:<notification_id>:<destination>``), Slack click/command de-duplication,
  replayed Slack signatures and used Teams link nonces;
- the Slack thread of each incident per destination (channel, ts, timeline);
- acknowledged incidents (who acknowledged).

:class:`MemoryState` serves one process (local runs, tests, ``CHATOPS_ROUTES=all``
on a single instance). :class:`FirestoreState` is shared by every instance and by
the public and private deployments; it works against the emulator when
``FIRESTORE_EMULATOR_HOST`` is set.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol


@dataclass(frozen=True)
class ThreadRecord:
    channel: str
    ts: str
    timeline: tuple[str, ...] = field(default_factory=tuple)
    notification: str = ""  # the latest notification (JSON), to re-render the first message after a click


class StateStore(Protocol):
    def claim(self, key: str, ttl_seconds: float) -> bool:
        """Record ``key`` unless it is already recorded and unexpired; True when this call recorded it."""

    def release(self, key: str) -> None:
        """Forget ``key`` (a delivery that failed must be retried, not de-duplicated)."""

    def is_claimed(self, key: str) -> bool:
        """True while ``key`` is recorded and unexpired (read-only)."""

    def get_thread(self, incident_id: str, destination: str) -> ThreadRecord | None: ...

    def put_thread(self, incident_id: str, destination: str, record: ThreadRecord) -> None: ...

    def acknowledge(self, incident_id: str, by: str) -> None: ...

    def acknowledged_by(self, incident_id: str) -> str: ...


class MemoryState:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._claims: dict[str, float] = {}
        self._threads: dict[tuple[str, str], ThreadRecord] = {}
        self._acks: dict[str, str] = {}

    def claim(self, key: str, ttl_seconds: float) -> bool:
        now = self._clock()
        with self._lock:
            expires = self._claims.get(key)
            if expires is not None and expires > now:
                return False
            self._claims[key] = now + ttl_seconds
            if len(self._claims) > 100_000:  # bound memory: drop expired markers
                self._claims = {k: v for k, v in self._claims.items() if v > now}
            return True

    def release(self, key: str) -> None:
        with self._lock:
            self._claims.pop(key, None)

    def is_claimed(self, key: str) -> bool:
        with self._lock:
            return self._claims.get(key, 0.0) > self._clock()

    def get_thread(self, incident_id: str, destination: str) -> ThreadRecord | None:
        with self._lock:
            return self._threads.get((incident_id, destination))

    def put_thread(self, incident_id: str, destination: str, record: ThreadRecord) -> None:
        with self._lock:
            self._threads[(incident_id, destination)] = record

    def acknowledge(self, incident_id: str, by: str) -> None:
        with self._lock:
            self._acks.setdefault(incident_id, by)

    def acknowledged_by(self, incident_id: str) -> str:
        with self._lock:
            return self._acks.get(incident_id, "")


def _expiry(epoch: float) -> dict[str, Any]:
    """``expires_at`` (epoch seconds) is what we compare; ``expire_at`` (a timestamp) lets a
    Firestore TTL policy on ``<prefix>_claims.expire_at`` delete expired claims."""
    return {"expires_at": epoch, "expire_at": datetime.fromtimestamp(epoch, tz=UTC)}


def _doc_id(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


class FirestoreState:
    """The same interface on Firestore (collections ``<prefix>_claims``, ``_threads``, ``_acks``)."""

    def __init__(
        self,
        project: str,
        prefix: str = "chatops",
        client: Any = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if client is None:
            from google.cloud import firestore  # imported lazily: only this backend needs it

            client = firestore.Client(project=project)
        self._db = client
        self._prefix = prefix
        self._clock = clock

    def _col(self, name: str) -> Any:
        return self._db.collection(f"{self._prefix}_{name}")

    def claim(self, key: str, ttl_seconds: float) -> bool:
        from google.api_core import exceptions

        now = self._clock()
        ref = self._col("claims").document(_doc_id(key))
        try:
            ref.create({"key": key[:1000], **_expiry(now + ttl_seconds)})
            return True
        except exceptions.AlreadyExists:
            pass
        snapshot = ref.get()
        data = snapshot.to_dict() or {}
        if float(data.get("expires_at", 0)) > now:
            return False
        try:  # expired: take it over, unless another instance did so first
            ref.update(
                _expiry(now + ttl_seconds),
                option=self._db.write_option(last_update_time=snapshot.update_time),
            )
            return True
        except (exceptions.FailedPrecondition, exceptions.NotFound):
            return False

    def release(self, key: str) -> None:
        self._col("claims").document(_doc_id(key)).delete()

    def is_claimed(self, key: str) -> bool:
        data = self._col("claims").document(_doc_id(key)).get().to_dict() or {}
        return float(data.get("expires_at", 0)) > self._clock()

    def get_thread(self, incident_id: str, destination: str) -> ThreadRecord | None:
        data = self._col("threads").document(_doc_id(incident_id, destination)).get().to_dict()
        if not data:
            return None
        return ThreadRecord(
            channel=data["channel"],
            ts=data["ts"],
            timeline=tuple(data.get("timeline", ())),
            notification=str(data.get("notification", "")),
        )

    def put_thread(self, incident_id: str, destination: str, record: ThreadRecord) -> None:
        self._col("threads").document(_doc_id(incident_id, destination)).set(
            {
                "incident_id": incident_id,
                "destination": destination,
                "channel": record.channel,
                "ts": record.ts,
                "timeline": list(record.timeline),
                "notification": record.notification,
            }
        )

    def acknowledge(self, incident_id: str, by: str) -> None:
        from google.api_core import exceptions

        with contextlib.suppress(exceptions.AlreadyExists):
            self._col("acks").document(_doc_id(incident_id)).create({"incident_id": incident_id, "by": by})

    def acknowledged_by(self, incident_id: str) -> str:
        data = self._col("acks").document(_doc_id(incident_id)).get().to_dict()
        return str((data or {}).get("by", ""))
