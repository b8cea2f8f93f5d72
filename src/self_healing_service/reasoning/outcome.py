"""What the reasoning layer hands back: a validated plan with a disposition, or a fallback with its reason."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FallbackReason(StrEnum):
    """Why the rules-based ladder runs instead of a model plan (machine-friendly codes)."""

    DISABLED = "disabled"
    RATE_LIMITED = "rate_limited"
    CIRCUIT_OPEN = "circuit_open"
    TIMEOUT = "timeout"
    UNAVAILABLE = "unavailable"
    REQUEST_REJECTED = "request_rejected"
    MALFORMED_RESPONSE = "malformed_response"
    SCHEMA_VIOLATION = "schema_violation"
    UNKNOWN_ACTION = "unknown_action"
    BAD_PARAMETERS = "bad_parameters"
    DISALLOWED_ACTION = "disallowed_action"
    PROTECTED_NAMESPACE = "protected_namespace"
    TARGET_MISMATCH = "target_mismatch"
    UNKNOWN_TARGET = "unknown_target"
    LOW_CONFIDENCE = "low_confidence"
    EMPTY_PLAN = "empty_plan"
    SECRET_IN_REQUEST = "secret_in_request"
    INTERNAL_ERROR = "internal_error"


class Disposition(StrEnum):
    AUTO_RUN = "auto_run"  # still through the healer's cooldown/budget guards
    HOLD_FOR_APPROVAL = "hold_for_approval"  # a human approves it in chat first


@dataclass(frozen=True)
class PlanStep:
    action: str
    parameters: Mapping[str, Any] = field(default_factory=dict)
    namespace: str = ""
    reason: str = ""

    def describe(self) -> str:
        params = ", ".join(f"{k}={v}" for k, v in self.parameters.items())
        return f"{self.action}({params})" if params else self.action

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "parameters": dict(self.parameters),
            "namespace": self.namespace,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0


@dataclass(frozen=True)
class Plan:
    steps: tuple[PlanStep, ...]
    confidence: float
    explanation: str
    hypothesis: str
    model: str
    latency_seconds: float
    fingerprint: str
    cached: bool = False
    usage: Usage = field(default_factory=Usage)

    def describe(self) -> str:
        """Multi-line text for the chat message: hypothesis, explanation, then the numbered steps."""
        lines = [
            f"Hypothesis: {self.hypothesis}",
            f"Why: {self.explanation}",
            f"Confidence: {self.confidence:.0%} ({self.model}{', cached' if self.cached else ''})",
            "Plan:",
        ]
        lines += [
            f"{i}. {step.describe()}" + (f" - {step.reason}" if step.reason else "")
            for i, step in enumerate(self.steps, 1)
        ]
        return "\n".join(lines)


@dataclass(frozen=True)
class Fallback:
    reason: FallbackReason
    detail: str  # one human sentence


@dataclass(frozen=True)
class ReasoningOutcome:
    incident_id: str
    fingerprint: str = ""
    plan: Plan | None = None
    disposition: Disposition | None = None
    fallback: Fallback | None = None

    def __post_init__(self) -> None:
        if (self.plan is None) == (self.fallback is None):
            raise ValueError("a reasoning outcome has either a plan or a fallback, not both or neither")
        if (self.plan is None) != (self.disposition is None):
            raise ValueError("a plan needs a disposition and a fallback must not have one")

    @property
    def steps(self) -> tuple[PlanStep, ...]:
        """Steps for the healer to run through its own guards (empty on fallback)."""
        return self.plan.steps if self.plan else ()

    @property
    def is_fallback(self) -> bool:
        return self.fallback is not None

    def to_record(self) -> dict[str, Any]:
        """JSON-ready record for the decision log and for a notification's ``decision.parameters``."""
        record: dict[str, Any] = {
            "source": "reasoner",
            "incident_id": self.incident_id,
            "fingerprint": self.fingerprint,
        }
        if self.fallback:
            record["fallback"] = {"reason": str(self.fallback.reason), "detail": self.fallback.detail}
        if self.plan:
            record.update(
                disposition=str(self.disposition),
                hypothesis=self.plan.hypothesis,
                explanation=self.plan.explanation,
                confidence=self.plan.confidence,
                model=self.plan.model,
                cached=self.plan.cached,
                latency_seconds=round(self.plan.latency_seconds, 3),
                steps=[s.to_dict() for s in self.plan.steps],
                usage={
                    "prompt_tokens": self.plan.usage.prompt_tokens,
                    "output_tokens": self.plan.usage.output_tokens,
                    "total_tokens": self.plan.usage.total_tokens,
                },
            )
        return record

    def decision_fields(self) -> dict[str, Any]:
        """Fields for the notification contract's ``DecisionInfo`` (the healer adds outcome, step and times).

        ``parameters`` stays flat (ChatOps prints it as ``key=value``); the full record is ``to_record()``.
        """
        if self.plan:
            return {
                "action": self.plan.steps[0].action,
                "reason": f"reasoner_{self.disposition}",
                "detail": self.chat_detail(),
                "parameters": {
                    "source": "reasoner",
                    "confidence": round(self.plan.confidence, 2),
                    "model": self.plan.model,
                    "plan": "; ".join(step.describe() for step in self.plan.steps),
                },
                "needs_human": self.disposition is Disposition.HOLD_FOR_APPROVAL,
            }
        assert self.fallback is not None
        return {
            "action": "",
            "reason": f"reasoner_{self.fallback.reason}",
            "detail": self.chat_detail(),
            "parameters": {"source": "reasoner", "fallback": str(self.fallback.reason)},
            "needs_human": False,
        }

    def chat_detail(self) -> str:
        """What the chat message shows: the plan and its explanation, or why the ladder is used."""
        if self.plan:
            verb = "will run" if self.disposition is Disposition.AUTO_RUN else "is held for approval"
            return f"Model-proposed plan {verb}.\n{self.plan.describe()}"
        assert self.fallback is not None
        return f"Rules-based ladder used ({self.fallback.reason}): {self.fallback.detail}"


def fallback(incident_id: str, reason: FallbackReason, detail: str, fingerprint: str = "") -> ReasoningOutcome:
    return ReasoningOutcome(incident_id=incident_id, fingerprint=fingerprint, fallback=Fallback(reason, detail))
