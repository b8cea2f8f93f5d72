"""Enforcer: checks a well-formed plan against policy and the incident, and picks its disposition.

It executes nothing. A plan that passes comes back as steps the healer runs through the very
same cooldown / budget / approval guards as its rule-based actions; this is an extra gate in
front of those guards, never a way around them.

Every step must:
- use an action on the policy's allowlist;
- name the incident's own namespace, which must not be protected;
- point at things that belong to the incident: a pod of the Deployment, one of its containers,
  a node its pods run on, a revision from its rollout history.

Then confidence decides: below ``min_confidence`` the plan is dropped (the ladder runs); at or
above ``auto_run_confidence`` it may run automatically; in between it is held for approval.
"""

from __future__ import annotations

from self_healing_service.reasoning.answer import PlanDraft
from self_healing_service.reasoning.context import IncidentContext
from self_healing_service.reasoning.outcome import (
    Disposition,
    FallbackReason,
    Plan,
    PlanStep,
    ReasoningOutcome,
    Usage,
    fallback,
)
from self_healing_service.reasoning.policy import ReasoningPolicy


class StepRefused(Exception):
    def __init__(self, reason: FallbackReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _check_target(step: PlanStep, ctx: IncidentContext, where: str) -> None:
    params = step.parameters
    if step.action == "delete_pod" and params["pod"] not in ctx.pod_names:
        raise StepRefused(
            FallbackReason.UNKNOWN_TARGET, f"{where}: pod {params['pod']!r} is not a pod of the Deployment"
        )
    if step.action == "raise_memory" and params["container"] not in ctx.container_names:
        raise StepRefused(
            FallbackReason.UNKNOWN_TARGET,
            f"{where}: container {params['container']!r} is not in the Deployment",
        )
    if step.action == "drain_node" and params["node"] not in ctx.nodes:
        raise StepRefused(
            FallbackReason.UNKNOWN_TARGET,
            f"{where}: node {params['node']!r} runs none of the Deployment's pods",
        )
    if step.action == "rollback":
        revision = params["to_revision"]
        latest = max(ctx.revisions, default=None)
        if revision == 0 and len(ctx.revisions) < 2:
            raise StepRefused(FallbackReason.UNKNOWN_TARGET, f"{where}: there is no previous revision to roll back to")
        if revision != 0 and revision not in ctx.revisions:
            raise StepRefused(
                FallbackReason.UNKNOWN_TARGET, f"{where}: revision {revision} is not in the rollout history"
            )
        if revision != 0 and revision == latest:
            raise StepRefused(FallbackReason.UNKNOWN_TARGET, f"{where}: revision {revision} is the current revision")


def check_step(step: PlanStep, index: int, ctx: IncidentContext, policy: ReasoningPolicy) -> None:
    """Raise :class:`StepRefused` when ``step`` may not run for this incident under this policy."""
    where = f"step {index + 1} ({step.action})"
    if step.action not in policy.allowed_actions:
        raise StepRefused(
            FallbackReason.DISALLOWED_ACTION,
            f"{where}: {step.action!r} is not allowed (allowed: {', '.join(policy.allowed_actions)})",
        )
    if policy.is_protected(step.namespace) or policy.is_protected(ctx.namespace):
        raise StepRefused(FallbackReason.PROTECTED_NAMESPACE, f"{where}: namespace {step.namespace!r} is protected")
    if step.namespace != ctx.namespace:
        raise StepRefused(
            FallbackReason.TARGET_MISMATCH,
            f"{where}: namespace {step.namespace!r} is not the incident's namespace {ctx.namespace!r}",
        )
    _check_target(step, ctx, where)


def enforce(
    draft: PlanDraft,
    ctx: IncidentContext,
    policy: ReasoningPolicy,
    *,
    fingerprint: str,
    model: str,
    latency_seconds: float,
    cached: bool,
    usage: Usage,
) -> ReasoningOutcome:
    """A plan with its disposition, or a fallback naming the first rule it broke."""
    for index, step in enumerate(draft.steps):
        try:
            check_step(step, index, ctx, policy)
        except StepRefused as refused:
            return fallback(ctx.incident_id, refused.reason, refused.detail, fingerprint)
    if draft.confidence < policy.min_confidence:
        return fallback(
            ctx.incident_id,
            FallbackReason.LOW_CONFIDENCE,
            f"the model's confidence {draft.confidence:.2f} is below the minimum {policy.min_confidence:.2f}",
            fingerprint,
        )
    disposition = (
        Disposition.AUTO_RUN if draft.confidence >= policy.auto_run_confidence else Disposition.HOLD_FOR_APPROVAL
    )
    plan = Plan(
        steps=draft.steps,
        confidence=draft.confidence,
        explanation=draft.explanation,
        hypothesis=draft.hypothesis,
        model=model,
        latency_seconds=latency_seconds,
        fingerprint=fingerprint,
        cached=cached,
        usage=usage,
    )
    return ReasoningOutcome(incident_id=ctx.incident_id, fingerprint=fingerprint, plan=plan, disposition=disposition)
