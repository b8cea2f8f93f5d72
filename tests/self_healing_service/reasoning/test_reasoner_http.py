"""End to end against a loopback server speaking Vertex AI generateContent, with recorded answers."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from healing_contract.notification import (
    DecisionInfo,
    IncidentInfo,
    Notification,
    TargetInfo,
    parse_notification,
)
from self_healing_service.reasoning import (
    Disposition,
    FallbackReason,
    IncidentContext,
    Reasoner,
)

ReasonerFactory = Callable[..., Reasoner]
ContextFactory = Callable[..., IncidentContext]


def test_good_plan_runs_automatically(
    vertex: Any, make_reasoner: ReasonerFactory, make_context: ContextFactory
) -> None:
    vertex.script("good_plan.json")
    outcome = make_reasoner().reason(make_context())

    assert outcome.fallback is None, outcome.fallback
    assert outcome.disposition is Disposition.AUTO_RUN
    assert [(s.action, dict(s.parameters)) for s in outcome.steps] == [
        ("rollback", {"to_revision": 11}),
        ("raise_memory", {"container": "checkout", "factor": 1.5}),
    ]
    assert all(s.namespace == "shop" for s in outcome.steps)
    plan = outcome.plan
    assert plan is not None
    assert plan.confidence == pytest.approx(0.91)
    assert plan.model == "gemini-2.5-flash"
    assert plan.cached is False
    assert plan.usage.total_tokens == 2055
    assert "revision 12" in plan.hypothesis

    (request,) = vertex.requests
    assert request.path == (
        "/v1/projects/acme-prod/locations/europe-west1/publishers/google/models/gemini-2.5-flash:generateContent"
    )
    body = request.json
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    step_schema = config["responseSchema"]["properties"]["steps"]["items"]
    assert step_schema["properties"]["action"]["enum"] == [
        "restart",
        "delete_pod",
        "scale_out",
        "rollback",
        "raise_memory",
    ]
    assert "'shop'" in body["systemInstruction"]["parts"][0]["text"]
    assert body["contents"][0]["role"] == "user"


def test_plan_below_the_auto_run_threshold_is_held_for_approval(
    vertex: Any, make_reasoner: ReasonerFactory, make_context: ContextFactory
) -> None:
    vertex.script("good_plan_low_confidence.json")
    outcome = make_reasoner().reason(make_context())

    assert outcome.disposition is Disposition.HOLD_FOR_APPROVAL
    assert [s.action for s in outcome.steps] == ["restart"]
    chat = outcome.chat_detail()
    assert "held for approval" in chat
    assert "Restarts are frequent" in chat  # the explanation
    assert "1. restart" in chat  # the plan
    record = outcome.to_record()
    assert record["disposition"] == "hold_for_approval"
    assert record["steps"][0]["action"] == "restart"
    fields = outcome.decision_fields()
    assert fields["needs_human"] is True
    assert fields["action"] == "restart"
    assert fields["reason"] == "reasoner_hold_for_approval"
    assert fields["parameters"]["plan"] == "restart"
    # The fields fit the shared notification contract as they are.
    notification = Notification(
        notification_id="n1",
        incident=IncidentInfo(incident_id=outcome.incident_id, state="open"),
        target=TargetInfo(namespace="shop", name="checkout"),
        decision=DecisionInfo(outcome="held_for_approval", **fields),
    )
    parsed = parse_notification(json.loads(json.dumps(notification.to_dict())))
    assert parsed.decision.detail == chat


def test_auto_run_threshold_comes_from_policy(
    vertex: Any, make_reasoner: ReasonerFactory, make_context: ContextFactory
) -> None:
    vertex.script("good_plan_low_confidence.json")
    outcome = make_reasoner(auto_run_confidence=0.6).reason(make_context())
    assert outcome.disposition is Disposition.AUTO_RUN


@pytest.mark.parametrize(
    ("recording", "reason"),
    [
        ("very_low_confidence.json", FallbackReason.LOW_CONFIDENCE),
        ("malformed_json.json", FallbackReason.MALFORMED_RESPONSE),
        ("text_outside_schema.json", FallbackReason.SCHEMA_VIOLATION),
        ("schema_violation.json", FallbackReason.SCHEMA_VIOLATION),
        ("unknown_action.json", FallbackReason.UNKNOWN_ACTION),
        ("bad_parameters.json", FallbackReason.BAD_PARAMETERS),
        ("disallowed_action.json", FallbackReason.DISALLOWED_ACTION),
        ("protected_namespace.json", FallbackReason.PROTECTED_NAMESPACE),
        ("max_tokens.json", FallbackReason.MALFORMED_RESPONSE),
        ("prompt_blocked.json", FallbackReason.MALFORMED_RESPONSE),
    ],
)
def test_unusable_answers_fall_back_with_their_reason(
    vertex: Any,
    make_reasoner: ReasonerFactory,
    make_context: ContextFactory,
    recording: str,
    reason: FallbackReason,
) -> None:
    vertex.script(recording)
    outcome = make_reasoner().reason(make_context())

    assert outcome.plan is None
    assert outcome.steps == ()
    assert outcome.fallback is not None
    assert outcome.fallback.reason is reason, outcome.fallback.detail
    assert outcome.fallback.detail
    assert len(vertex.requests) == 1
    assert outcome.to_record()["fallback"]["reason"] == str(reason)
    assert f"({reason})" in outcome.chat_detail()


def test_the_same_answers_are_accepted_when_policy_allows_them(
    vertex: Any, make_reasoner: ReasonerFactory, make_context: ContextFactory
) -> None:
    # The drain_node answer is refused above only because of the allowlist: allow it and it runs.
    vertex.script("disallowed_action.json")
    outcome = make_reasoner(allowed_actions=("drain_node",)).reason(make_context())
    assert outcome.disposition is Disposition.AUTO_RUN
    assert [dict(s.parameters) for s in outcome.steps] == [{"node": "gke-prod-pool-1-5f2a9c1e-k8rt"}]


def test_slow_answer_times_out(vertex: Any, make_reasoner: ReasonerFactory, make_context: ContextFactory) -> None:
    vertex.reply("good_plan.json", delay_seconds=30)
    outcome = make_reasoner(timeout_seconds=0.3).reason(make_context())

    assert outcome.fallback is not None
    assert outcome.fallback.reason is FallbackReason.TIMEOUT
    assert outcome.steps == ()


def test_answer_trickling_in_past_the_deadline_times_out(
    vertex: Any, make_reasoner: ReasonerFactory, make_context: ContextFactory
) -> None:
    # Each piece arrives well within the socket timeout; only the total deadline catches it.
    vertex.reply("good_plan.json", trickle_seconds=0.1)
    outcome = make_reasoner(timeout_seconds=0.35).reason(make_context())
    assert outcome.fallback is not None
    assert outcome.fallback.reason is FallbackReason.TIMEOUT


@pytest.mark.parametrize(
    ("recording", "status", "reason", "words"),
    [
        ("error_500.json", 500, FallbackReason.UNAVAILABLE, "INTERNAL"),
        ("error_429.json", 429, FallbackReason.UNAVAILABLE, "RESOURCE_EXHAUSTED"),
        ("error_400.json", 400, FallbackReason.REQUEST_REJECTED, "INVALID_ARGUMENT"),
    ],
)
def test_service_errors_fall_back(
    vertex: Any,
    make_reasoner: ReasonerFactory,
    make_context: ContextFactory,
    recording: str,
    status: int,
    reason: FallbackReason,
    words: str,
) -> None:
    vertex.reply(recording, status=status)
    outcome = make_reasoner().reason(make_context())

    assert outcome.fallback is not None
    assert outcome.fallback.reason is reason
    assert words in outcome.fallback.detail
    assert f"HTTP {status}" in outcome.fallback.detail


def test_connection_refused_falls_back(make_context: ContextFactory, make_reasoner: ReasonerFactory) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on that port any more.
    outcome = make_reasoner(endpoint_base_url=f"http://127.0.0.1:{port}").reason(make_context())
    assert outcome.fallback is not None
    assert outcome.fallback.reason is FallbackReason.UNAVAILABLE


def test_wrong_token_is_a_rejected_request(
    vertex: Any, make_reasoner: ReasonerFactory, make_context: ContextFactory
) -> None:
    vertex.script("good_plan.json")
    outcome = make_reasoner(token_provider=lambda: "not-the-token").reason(make_context())
    assert outcome.fallback is not None
    assert outcome.fallback.reason is FallbackReason.REQUEST_REJECTED
    assert "UNAUTHENTICATED" in outcome.fallback.detail


def test_token_provider_failure_falls_back_without_a_call(
    vertex: Any, make_reasoner: ReasonerFactory, make_context: ContextFactory
) -> None:
    def no_credentials() -> str:
        raise RuntimeError("no default credentials")

    vertex.script("good_plan.json")
    outcome = make_reasoner(token_provider=no_credentials).reason(make_context())
    assert outcome.fallback is not None
    assert outcome.fallback.reason is FallbackReason.UNAVAILABLE
    assert vertex.requests == []


def test_circuit_opens_after_repeated_failures_and_recovers(
    vertex: Any, make_reasoner: ReasonerFactory, make_context: ContextFactory, clock: Any
) -> None:
    reasoner = make_reasoner(circuit_failure_threshold=2, circuit_open_seconds=60, max_calls_per_incident=10)
    vertex.reply("error_500.json", status=500)
    vertex.reply("error_429.json", status=429)
    reasons = [reasoner.reason(make_context(kind=f"k{i}")).fallback for i in range(3)]
    assert [f.reason for f in reasons if f] == [
        FallbackReason.UNAVAILABLE,
        FallbackReason.UNAVAILABLE,
        FallbackReason.CIRCUIT_OPEN,
    ]
    assert len(vertex.requests) == 2  # the open circuit sent nothing

    clock.advance(61)
    vertex.script("good_plan.json")
    outcome = reasoner.reason(make_context())
    assert outcome.disposition is Disposition.AUTO_RUN
    assert len(vertex.requests) == 3


def test_calls_per_incident_are_limited(
    vertex: Any, make_reasoner: ReasonerFactory, make_context: ContextFactory
) -> None:
    reasoner = make_reasoner(max_calls_per_incident=1)
    vertex.script("malformed_json.json", "good_plan.json")
    first = reasoner.reason(make_context())
    second = reasoner.reason(make_context())

    assert first.fallback is not None and first.fallback.reason is FallbackReason.MALFORMED_RESPONSE
    assert second.fallback is not None and second.fallback.reason is FallbackReason.RATE_LIMITED
    assert "0.ntn7j2k1r9xz" in second.fallback.detail
    assert len(vertex.requests) == 1


def test_calls_per_hour_are_limited(
    vertex: Any, make_reasoner: ReasonerFactory, make_context: ContextFactory, clock: Any
) -> None:
    reasoner = make_reasoner(max_calls_per_hour=2)
    vertex.script("malformed_json.json", "malformed_json.json", "good_plan.json")
    outcomes = [reasoner.reason(make_context(incident_id=f"inc-{i}")) for i in range(3)]
    assert [o.fallback.reason for o in outcomes if o.fallback] == [
        FallbackReason.MALFORMED_RESPONSE,
        FallbackReason.MALFORMED_RESPONSE,
        FallbackReason.RATE_LIMITED,
    ]
    assert len(vertex.requests) == 2

    clock.advance(3600)
    later = reasoner.reason(make_context(incident_id="inc-later"))
    assert later.disposition is Disposition.AUTO_RUN
    assert len(vertex.requests) == 3


def test_identical_incident_is_answered_from_the_cache(
    vertex: Any, make_reasoner: ReasonerFactory, make_context: ContextFactory, clock: Any
) -> None:
    reasoner = make_reasoner(cache_ttl_seconds=600)
    vertex.script("good_plan.json", "good_plan.json", "good_plan.json")
    first = reasoner.reason(make_context(incident_id="inc-1", observed_value=7.0))
    # A new alert for the same situation: other id, other observed value.
    second = reasoner.reason(make_context(incident_id="inc-2", observed_value=9.0))

    assert len(vertex.requests) == 1
    assert first.plan is not None and second.plan is not None
    assert second.plan.cached is True
    assert second.incident_id == "inc-2"
    assert second.steps == first.steps
    assert second.fingerprint == first.fingerprint

    # A different situation is not served from the cache...
    reasoner.reason(make_context(incident_id="inc-3", kind="oom_killed"))
    assert len(vertex.requests) == 2
    # ...and the cached answer expires.
    clock.advance(601)
    third = reasoner.reason(make_context(incident_id="inc-4"))
    assert third.plan is not None and third.plan.cached is False


def test_cached_plan_is_rechecked_against_the_new_incident(
    vertex: Any, make_reasoner: ReasonerFactory, make_context: ContextFactory
) -> None:
    reasoner = make_reasoner(allowed_actions=("drain_node",))
    vertex.script("disallowed_action.json")
    first = reasoner.reason(make_context())
    assert first.disposition is Disposition.AUTO_RUN

    # Same situation (same fingerprint), but the pods now run on other nodes: the cached
    # drain_node step names a node that has nothing to do with this incident.
    original = make_context()
    moved = make_context(
        incident_id="inc-moved",
        pod_statuses=tuple(replace(p, node="gke-prod-pool-2-00aa11bb-abcd") for p in original.pod_statuses),
    )
    second = reasoner.reason(moved)

    assert second.fingerprint == first.fingerprint
    assert second.fallback is not None
    assert second.fallback.reason is FallbackReason.UNKNOWN_TARGET
    assert len(vertex.requests) == 1


def test_no_secret_reaches_the_request_body(
    vertex: Any, make_reasoner: ReasonerFactory, make_context: ContextFactory, planted_secrets: dict[str, str]
) -> None:
    vertex.script("good_plan.json")
    outcome = make_reasoner().reason(make_context())
    assert outcome.disposition is Disposition.AUTO_RUN

    (request,) = vertex.requests
    raw = request.raw_body.decode("utf-8")
    for where, secret in planted_secrets.items():
        assert secret not in raw, f"{where} leaked into the request body"
    # The distinctive halves of the secrets are gone too, not only the exact strings.
    for fragment in ("pa55w0rd", "hunter2", "9f8e7d6c5b4a", "Tr0ub4dor", "AIzaSyD"):
        assert fragment not in raw
    # What a human would need is still there.
    for useful in ("OOMKilled", "CrashLoopBackOff", "OutOfMemoryError", "checkout:1.5.0", "DB_PASSWORD", "BackOff"):
        assert useful in raw


def test_disabled_layer_makes_no_call(
    vertex: Any, make_context: ContextFactory, make_reasoner: ReasonerFactory
) -> None:
    vertex.script("good_plan.json")
    outcome = make_reasoner(enabled=False).reason(make_context())
    assert outcome.fallback is not None
    assert outcome.fallback.reason is FallbackReason.DISABLED
    assert vertex.requests == []


def test_protected_target_namespace_makes_no_call(
    vertex: Any, make_reasoner: ReasonerFactory, make_context: ContextFactory
) -> None:
    vertex.script("good_plan.json")
    outcome = make_reasoner().reason(make_context(namespace="kube-system"))
    assert outcome.fallback is not None
    assert outcome.fallback.reason is FallbackReason.PROTECTED_NAMESPACE
    assert vertex.requests == []
