"""Whatever the model answers, only allowed steps about the incident itself ever come out."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from self_healing_service.reasoning.answer import AnswerRejected, parse_answer
from self_healing_service.reasoning.context import IncidentContext
from self_healing_service.reasoning.enforcer import enforce
from self_healing_service.reasoning.outcome import Disposition, Usage
from self_healing_service.reasoning.policy import ReasoningPolicy

ACTIONS = ["restart", "delete_pod", "scale_out", "rollback", "raise_memory", "drain_node", "cleanup_evicted",
           "cleanup_jobs", "exec", "delete_namespace", "", "RESTART"]  # fmt: skip
NAMESPACES = ["shop", "kube-system", "payments", "", "SHOP", "gmp-system"]
NAMES = ["checkout-7d9f8c6b5-x2x4z", "checkout", "gke-prod-pool-1-5f2a9c1e-k8rt", "other-pod", "kube-dns", "Bad Name"]
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-5, max_value=2000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(NAMES),
    st.text(max_size=12),
)
parameters = st.dictionaries(
    st.sampled_from(["pod", "replicas", "to_revision", "container", "factor", "node", "namespace", "command"]),
    values,
    max_size=3,
)

# Parameter sets that are right for some action, so that many answers get past the parser
# and the enforcer's own checks are what is exercised.
fitting = st.one_of(
    st.just({}),
    st.fixed_dictionaries({"pod": st.sampled_from(NAMES)}),
    st.fixed_dictionaries({"replicas": st.integers(0, 12)}),
    st.fixed_dictionaries({"to_revision": st.integers(0, 13)}),
    st.fixed_dictionaries({"container": st.sampled_from(NAMES), "factor": st.floats(0.5, 5)}),
    st.fixed_dictionaries({"node": st.sampled_from(NAMES)}),
)
steps = st.fixed_dictionaries(
    {
        "action": st.one_of(st.sampled_from(ACTIONS[:5]), st.sampled_from(ACTIONS)),
        "namespace": st.one_of(st.just("shop"), st.sampled_from(NAMESPACES)),
        "parameters": st.one_of(fitting, fitting, fitting, parameters),
        "reason": st.text(max_size=20),
    }
)
well_formed = st.fixed_dictionaries(
    {
        "hypothesis": st.text(alphabet="abc xyz", min_size=1, max_size=30),
        "explanation": st.text(alphabet="abc xyz", min_size=1, max_size=30),
        "confidence": st.floats(min_value=0, max_value=1),
        "steps": st.lists(steps, min_size=1, max_size=3),
    }
)
odd_shaped = st.fixed_dictionaries(
    {
        "hypothesis": st.text(max_size=30),
        "explanation": st.text(max_size=30),
        "confidence": st.one_of(st.floats(min_value=-1, max_value=2), st.integers(-1, 2), st.text(max_size=3)),
        "steps": st.lists(st.one_of(steps, st.dictionaries(st.text(max_size=8), values, max_size=4)), max_size=4),
    },
    optional={"note": st.text(max_size=5)},
)
# Two in three answers are well-formed, so the enforcer's checks see plenty of plans (in a trial
# run of 300: about 120 rejected by the parser, 60 by the enforcer, 15 accepted).
answers = st.one_of(well_formed, well_formed, odd_shaped)

POLICY = ReasoningPolicy(enabled=True, project="acme-prod")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answer=answers)
def test_only_allowed_steps_about_the_incident_come_out(
    make_context: Callable[..., IncidentContext], answer: dict[str, Any]
) -> None:
    ctx = make_context()
    try:
        draft = parse_answer(json.dumps(answer), POLICY.max_steps)
    except AnswerRejected as rejected:
        assert rejected.detail
        return
    outcome = enforce(draft, ctx, POLICY, fingerprint="fp", model="m", latency_seconds=0.0, cached=False, usage=Usage())
    if outcome.fallback:
        assert outcome.steps == ()
        return
    assert outcome.disposition in (Disposition.AUTO_RUN, Disposition.HOLD_FOR_APPROVAL)
    assert outcome.plan is not None and outcome.plan.confidence >= POLICY.min_confidence
    for step in outcome.steps:
        assert step.action in POLICY.allowed_actions
        assert step.namespace == ctx.namespace and not POLICY.is_protected(step.namespace)
        params = dict(step.parameters)
        assert set(params) <= {"pod", "replicas", "to_revision", "container", "factor"}
        if step.action == "delete_pod":
            assert params["pod"] in ctx.pod_names
        if step.action == "raise_memory":
            assert params["container"] in ctx.container_names and 1 < params["factor"] <= 4
        if step.action == "scale_out":
            assert isinstance(params["replicas"], int) and params["replicas"] >= 1
        if step.action == "rollback":
            assert params["to_revision"] == 0 or params["to_revision"] in ctx.revisions
