"""The healer's own exception types. Callers never see `kubernetes` or Google API errors."""

from __future__ import annotations


class HealerError(Exception):
    """Base class for the healer's errors."""


class TransientError(HealerError):
    """A dependency is unavailable right now; Pub/Sub should redeliver (answer 5xx)."""


class KubeError(HealerError):
    """A Kubernetes API call failed."""

    def __init__(self, message: str, *, status: int = 0, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class KubeUnavailable(KubeError, TransientError):
    """The Kubernetes API could not be reached, timed out or answered 5xx."""


class KubeNotFound(KubeError):
    """The object does not exist (404)."""


class KubeConflict(KubeError):
    """The object changed underneath us (409)."""


class KubeForbidden(KubeError):
    """The healer's identity may not do this (401/403): fix IAM or RBAC."""


class KubeRefused(KubeError):
    """The API refused on purpose, e.g. an eviction blocked by a PodDisruptionBudget (429)."""


class KubeInvalid(KubeError):
    """The API rejected the request as invalid (400/422)."""


class DryRunViolation(HealerError):
    """A mutating Kubernetes call was attempted through a read-only (dry-run) client."""


class StateStoreUnavailable(TransientError):
    """The ledger (Firestore) could not be reached."""


class NotifyFailed(TransientError):
    """ChatOps could not be reached after the bounded retries."""
