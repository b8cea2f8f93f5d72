from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from self_healing_service.reasoning.answer import PlanDraft
from self_healing_service.reasoning.context import IncidentContext, RolloutRevision
from self_healing_service.reasoning.enforcer import enforce
from self_healing_service.reasoning.outcome import Disposition, FallbackReason, PlanStep, ReasoningOutcome, Usage
from self_healing_service.reasoning.policy import ReasoningPolicy

ContextFactory = Callable[..., IncidentContext]
ALL = (
    "restart",
    "delete_pod",
    "scale_out",
    "rollback",
    "raise_memory",
    "drain_node",
    "cleanup_evicted",
    "cleanup_jobs",
)


def _enforce(ctx: IncidentContext, *steps: PlanStep, confidence: float = 0.9, **policy: Any) -> ReasoningOutcome:
    settings: dict[str, Any] = {"enabled": True, "project": "acme-prod", "allowed_actions": ALL}
    settings.update(policy)
    draft = PlanDraft("h", "e", confidence, steps)
    return enforce(
        draft,
        ctx,
        ReasoningPolicy(**settings),
        fingerprint="fp",
        model="gemini-2.5-flash",
        latency_seconds=0.2,
        cached=False,
        usage=Usage(),
    )


def _step(action: str, namespace: str = "shop", **parameters: Any) -> PlanStep:
    return PlanStep(action, parameters, namespace)


@pytest.mark.parametrize(
    "step",
    [
        _step("restart"),
        _step("delete_pod", pod="checkout-7d9f8c6b5-q7w2n"),
        _step("scale_out", replicas=6),
        _step("rollback", to_revision=0),
        _step("rollback", to_revision=11),
        _step("raise_memory", container="checkout", factor=1.5),
        _step("drain_node", node="gke-prod-pool-1-5f2a9c1e-m3zd"),
        _step("cleanup_evicted"),
        _step("cleanup_jobs"),
    ],
)
def test_steps_about_the_incident_pass(make_context: ContextFactory, step: PlanStep) -> None:
    outcome = _enforce(make_context(), step)
    assert outcome.disposition is Disposition.AUTO_RUN
    assert outcome.steps == (step,)


@pytest.mark.parametrize(
    ("step", "reason"),
    [
        (_step("delete_pod", pod="payments-5b7c9d-aaaaa"), FallbackReason.UNKNOWN_TARGET),
        (_step("raise_memory", container="istio-proxy", factor=2.0), FallbackReason.UNKNOWN_TARGET),
        (_step("drain_node", node="gke-prod-pool-9-0000-zzzz"), FallbackReason.UNKNOWN_TARGET),
        (_step("rollback", to_revision=7), FallbackReason.UNKNOWN_TARGET),
        (_step("rollback", to_revision=12), FallbackReason.UNKNOWN_TARGET),  # the current revision
        (_step("restart", namespace="payments"), FallbackReason.TARGET_MISMATCH),
        (_step("restart", namespace="kube-system"), FallbackReason.PROTECTED_NAMESPACE),
        (_step("cleanup_jobs", namespace="gmp-system"), FallbackReason.PROTECTED_NAMESPACE),
    ],
)
def test_steps_outside_the_incident_fall_back(
    make_context: ContextFactory, step: PlanStep, reason: FallbackReason
) -> None:
    outcome = _enforce(make_context(), _step("restart"), step)
    assert outcome.fallback is not None
    assert outcome.fallback.reason is reason
    assert "step 2" in outcome.fallback.detail
    assert outcome.steps == ()


def test_rollback_to_previous_needs_a_previous_revision(make_context: ContextFactory) -> None:
    single = make_context(rollout_history=(RolloutRevision(3, "2026-11-01T00:00:00Z", ("img:1",)),))
    outcome = _enforce(single, _step("rollback", to_revision=0))
    assert outcome.fallback is not None and outcome.fallback.reason is FallbackReason.UNKNOWN_TARGET


def test_allowlist_is_the_policy_s(make_context: ContextFactory) -> None:
    outcome = _enforce(make_context(), _step("restart"), allowed_actions=("rollback",))
    assert outcome.fallback is not None
    assert outcome.fallback.reason is FallbackReason.DISALLOWED_ACTION
    assert "rollback" in outcome.fallback.detail  # says what is allowed


def test_extra_protected_namespaces_from_policy(make_context: ContextFactory) -> None:
    outcome = _enforce(make_context(), _step("restart"), protected_namespaces=("shop",))
    assert outcome.fallback is not None and outcome.fallback.reason is FallbackReason.PROTECTED_NAMESPACE


@pytest.mark.parametrize(
    ("confidence", "expected"),
    [
        (0.85, Disposition.AUTO_RUN),  # at the threshold
        (0.8499, Disposition.HOLD_FOR_APPROVAL),
        (0.5, Disposition.HOLD_FOR_APPROVAL),  # at the minimum
        (0.4999, FallbackReason.LOW_CONFIDENCE),
        (1.0, Disposition.AUTO_RUN),
        (0.0, FallbackReason.LOW_CONFIDENCE),
    ],
)
def test_confidence_picks_the_disposition(make_context: ContextFactory, confidence: float, expected: object) -> None:
    outcome = _enforce(make_context(), _step("restart"), confidence=confidence)
    got = outcome.disposition if outcome.plan else outcome.fallback and outcome.fallback.reason
    assert got == expected
