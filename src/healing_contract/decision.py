"""The healer's decision vocabulary: outcomes, reason codes, the stored record, the ledger key, undo results.

One place for the words the healer, its ledger, the healing-actions table and ChatOps share.
Outcomes and reasons are :class:`~enum.StrEnum` members, so they compare equal to (and
serialise as) the plain strings the wire format has always carried. Pure data, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    """What happened, from a human's point of view. ChatOps picks the wording and the colour from this."""

    ACTED = "acted"  # a mutating action was taken
    DRY_RUN = "dry_run"  # an action would have been taken (dry-run mode): zero mutating calls
    REFUSED = "refused"  # a guard refused to act (protected namespace, opt-out, cooldown, budget, silence, ...)
    HELD_FOR_APPROVAL = "held_for_approval"  # policy holds the action until a human approves it in chat
    FAILED = "failed"  # the action was attempted and failed
    VERIFIED = "verified"  # the incident closed after the action
    ESCALATED = "escalated"  # the ladder is exhausted; a human is needed
    CLOSED = "closed"  # Cloud Monitoring closed the incident
    IGNORED = "ignored"  # not actionable (no matching policy); recorded, not told


# Outcomes a human hears about. IGNORED is recorded only.
NOTIFY_OUTCOMES = frozenset(Outcome) - {Outcome.IGNORED}


class Reason(StrEnum):
    """Machine reason codes in a decision, so ChatOps can say what to do next.

    Acted decisions carry ``policy:<rule name>`` (:func:`policy_reason`); model-proposed plans
    ``reasoner_<disposition>`` or ``reasoner_<fallback reason>``.
    """

    PROTECTED_NAMESPACE = "protected_namespace"
    OPTED_OUT = "opted_out"
    NOT_OPTED_IN = "not_opted_in"
    UNSUPPORTED_TARGET = "unsupported_target"
    SILENCED = "silenced"
    MAINTENANCE_WINDOW = "maintenance_window"
    APPROVAL_REQUIRED = "approval_required"
    COOLDOWN = "cooldown"
    BUDGET_TARGET = "budget_target"
    BUDGET_NAMESPACE = "budget_namespace"
    BUDGET_CLUSTER = "budget_cluster"
    CIRCUIT_BREAKER = "circuit_breaker"
    NO_APPLICABLE_ACTION = "no_applicable_action"
    NOT_APPLICABLE = "not_applicable"
    NO_POLICY = "no_policy"
    DRY_RUN = "dry_run"
    KUBE_ERROR = "kube_error"
    ROLLOUT_NOT_READY = "rollout_not_ready"
    LADDER_EXHAUSTED = "ladder_exhausted"
    INCIDENT_CLOSED = "incident_closed"
    CLOSED = "closed"
    CLOSED_WITHOUT_ACTION = "closed_without_action"


REASON_TEXT: dict[str, str] = {
    Reason.PROTECTED_NAMESPACE: "the namespace is protected; the healer never touches it",
    Reason.OPTED_OUT: "the Deployment carries the opt-out annotation",
    Reason.NOT_OPTED_IN: "opt-in mode and the Deployment lacks the opt-in annotation",
    Reason.UNSUPPORTED_TARGET: "the pod is not owned by a Deployment",
    Reason.SILENCED: "a human silenced or paused the target from chat",
    Reason.MAINTENANCE_WINDOW: "a maintenance window is in progress",
    Reason.APPROVAL_REQUIRED: "the policy holds this action until someone approves it",
    Reason.COOLDOWN: "the healer acted on this target recently",
    Reason.BUDGET_TARGET: "the per-target action budget is spent",
    Reason.BUDGET_NAMESPACE: "the per-namespace action budget is spent",
    Reason.BUDGET_CLUSTER: "the per-cluster action budget is spent",
    Reason.CIRCUIT_BREAKER: "too many actions in the cluster: all actions there are stopped",
    Reason.NO_APPLICABLE_ACTION: "no step of the ladder applies to this target",
    Reason.NOT_APPLICABLE: "the approved action no longer applies to the target",
    Reason.NO_POLICY: "no policy rule for this incident kind",
    Reason.DRY_RUN: "dry-run mode: nothing was changed",
    Reason.KUBE_ERROR: "the Kubernetes API refused or failed the action",
    Reason.ROLLOUT_NOT_READY: "the action was taken but the rollout did not become ready in time",
    Reason.LADDER_EXHAUSTED: "every step was tried and the incident is still open",
    Reason.INCIDENT_CLOSED: "Cloud Monitoring closed the incident after the action",
    Reason.CLOSED: "Cloud Monitoring closed the incident; no action had been taken",
    Reason.CLOSED_WITHOUT_ACTION: "the incident closed before the healer decided anything",
}


def policy_reason(rule_name: str) -> str:
    """The reason code of an action a policy rule took."""
    return f"policy:{rule_name}"


def ledger_key(incident_id: str, state: str, target_key: str, *, attempt: int = 0, approved_step: int = -1) -> str:
    """The one key a decision is claimed and stored under.

    ``attempt`` counts escalations of the same open incident (a0, a1, ...); an approved held
    action is stored as ``approved<step>`` so it never collides with the attempt that held it.
    """
    suffix = f"approved{approved_step}" if approved_step >= 0 else f"a{attempt}"
    return f"{incident_id}|{state}|{target_key}|{suffix}"


def target_key(cluster: str, namespace: str, name: str) -> str:
    """``cluster/namespace/name`` as the ledger, the budgets and the history route name a target."""
    return "/".join((cluster or "*", namespace or "-", name or "-"))


@dataclass(frozen=True)
class DecisionRecord:
    """What the ledger, the decision history and the healing-actions table store for one decision."""

    decided_at: float = 0.0
    incident_id: str = ""
    incident_state: str = ""
    incident_kind: str = ""
    policy_name: str = ""
    project_id: str = ""
    location: str = ""
    cluster: str = ""
    namespace: str = ""
    target_kind: str = ""
    target_name: str = ""
    target_key: str = ""
    pod: str = ""
    action: str = ""
    outcome: str = ""
    reason: str = ""
    detail: str = ""
    dry_run: bool = False
    step: int = 0
    parameters: dict[str, Any] = field(default_factory=dict)
    action_duration_ms: float | None = None
    time_to_recover_s: float | None = None
    healed: bool | None = None
    evidence_uri: str = ""
    actor: str = "healer"
    healer_instance: str = ""
    # notification bookkeeping: whether a human is to be told, and whether they were
    notify: bool = False
    notified: bool = False
    notify_attempts: int = 0
    notify_lease_until: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["outcome"], doc["reason"] = str(self.outcome), str(self.reason)
        return doc

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> DecisionRecord:
        """Read a stored record back; unknown keys (ledger bookkeeping) are ignored, missing ones defaulted."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in doc.items() if k in known and v is not None}
        record = cls(**values)
        return record if isinstance(record.parameters, dict) else cls(**{**values, "parameters": {}})

    @property
    def acted(self) -> bool:
        return self.outcome == Outcome.ACTED


class UndoStatus(StrEnum):
    DONE = "done"
    DRY_RUN = "dry_run"
    NOTHING = "nothing"  # the healer has not changed this target
    NOT_UNDONE = "not_undone"  # the last change cannot be undone now
    FAILED = "failed"  # the Kubernetes API refused or failed the undo


@dataclass(frozen=True)
class UndoResult:
    status: UndoStatus
    summary: str  # one human sentence, as the chat reply and the decision detail show it

    @property
    def ok(self) -> bool:
        return self.status in (UndoStatus.DONE, UndoStatus.DRY_RUN)

    def __str__(self) -> str:
        return self.summary
