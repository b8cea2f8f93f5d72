"""What happened to one notification at each destination; the body of the /notify answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chatops_service.retrying import RetryOutcome
from chatops_service.routing import Destination


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


def record_from(dest: Destination, outcome: RetryOutcome, *, thread_ts: str = "") -> DeliveryRecord:
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
