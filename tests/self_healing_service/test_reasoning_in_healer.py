"""The optional reasoning layer inside the healer's decision flow, against a loopback Vertex AI double.

Only a valid, allowed plan runs, and only through the same guards; everything else falls back to
the rules-based ladder with the reason recorded in the decision and the chat notification.
"""

from __future__ import annotations

import json
from typing import Any

from local_scenario.http_receiver import Answer, HttpReceiver
from self_healing_service.healer import Healer
from self_healing_service.incident import Incident, parse_notification
from self_healing_service.kube import ClusterConnector
from self_healing_service.ledger import InMemoryLedger
from self_healing_service.notifier import ChatOpsNotifier
from self_healing_service.policy import default_policy
from self_healing_service.reasoning import Reasoner, policy_from_mapping
from tests.self_healing_service.conftest import healer_settings, incident_doc, pods_of


def vertex_answer(plan: dict[str, Any] | None, status: int = 200) -> Answer:
    if plan is None:
        body = {"error": {"code": status, "message": "internal", "status": "INTERNAL"}}
    else:
        body = {"candidates": [{"content": {"role": "model", "parts": [{"text": json.dumps(plan)}]},
                                "finishReason": "STOP"}],
                "usageMetadata": {"promptTokenCount": 100, "candidatesTokenCount": 50, "totalTokenCount": 150},
                "modelVersion": "gemini-2.5-flash"}
    return Answer(status, json.dumps(body).encode(), (("Content-Type", "application/json"),))


def plan(action: str, confidence: float, **parameters: Any) -> dict[str, Any]:
    return {"hypothesis": "the checkout pods are stuck in a hot loop", "explanation": "a restart clears it",
            "confidence": confidence,
            "steps": [{"action": action, "namespace": "shop", "parameters": parameters, "reason": "clear it"}]}


def make_healer(cluster: Any, chatops: HttpReceiver, vertex: HttpReceiver) -> Healer:
    settings = healer_settings(cluster, HEALER_CHATOPS_URL=chatops.url)
    reasoning = policy_from_mapping({"enabled": True, "project": "acme-prod", "location": "europe-west1",
                                     "endpoint_base_url": vertex.url, "timeout_seconds": 5})
    return Healer(settings, default_policy(), InMemoryLedger(),
                  ClusterConnector(mode="kubeconfig", kubeconfig=cluster.kubeconfig_path), ChatOpsNotifier(settings),
                  reasoner=Reasoner(reasoning, token_provider=lambda: "test-token"))


def incident(cluster: Any) -> Incident:
    parsed = parse_notification(json.dumps(incident_doc(pod_name=pods_of(cluster, "shop", "checkout")[0])).encode())
    assert isinstance(parsed, Incident)
    return parsed


def test_a_confident_allowed_plan_runs_through_the_guards(cluster: Any, chatops_receiver: HttpReceiver) -> None:
    with HttpReceiver(default=vertex_answer(plan("restart", 0.95))) as vertex:
        healer = make_healer(cluster, chatops_receiver, vertex)
        [decision] = healer.handle(incident(cluster)).decisions
        [request] = vertex.received
    assert decision.outcome == "acted" and decision.action == "restart"
    assert decision.parameters["source"] == "reasoner" and decision.parameters["confidence"] == 0.95
    assert "Model-proposed plan will run" in decision.detail
    assert request.headers["authorization"] == "Bearer test-token"
    assert ":generateContent" in request.path
    note = chatops_receiver.matching("/notify")[0].json()
    assert "Model-proposed plan" in note["decision"]["detail"]


def test_a_plan_between_the_confidence_levels_is_held_for_approval(cluster: Any,
                                                                   chatops_receiver: HttpReceiver) -> None:
    with HttpReceiver(default=vertex_answer(plan("restart", 0.7))) as vertex:
        [decision] = make_healer(cluster, chatops_receiver, vertex).handle(incident(cluster)).decisions
    assert decision.outcome == "held_for_approval"
    assert cluster.mutating_requests() == []


def test_an_unsafe_plan_falls_back_to_the_ladder_with_its_reason(cluster: Any, chatops_receiver: HttpReceiver) -> None:
    unsafe = plan("delete_pod", 0.99, pod="etcd-0")  # not a pod of this Deployment
    with HttpReceiver(default=vertex_answer(unsafe)) as vertex:
        [decision] = make_healer(cluster, chatops_receiver, vertex).handle(incident(cluster)).decisions
    assert decision.outcome == "acted" and decision.action == "restart" and decision.reason == "policy:high-cpu"
    assert decision.parameters["reasoning"]["fallback"]["reason"] == "unknown_target"
    note = chatops_receiver.matching("/notify")[0].json()
    assert note["decision"]["parameters"]["reasoning"]["fallback"]["reason"] == "unknown_target"


def test_service_unavailable_falls_back_cleanly(cluster: Any, chatops_receiver: HttpReceiver) -> None:
    with HttpReceiver(default=vertex_answer(None, 500)) as vertex:
        [decision] = make_healer(cluster, chatops_receiver, vertex).handle(incident(cluster)).decisions
    assert decision.outcome == "acted" and decision.action == "restart"
    assert decision.parameters["reasoning"]["fallback"]["reason"] == "unavailable"


def test_reasoning_section_is_validated_in_the_policy_file() -> None:
    import pytest

    from self_healing_service.policy import PolicyError, load_policy_text

    with pytest.raises(PolicyError, match=r"line 3: reasoning: .*max_calls_per_hour"):
        load_policy_text("version: 1\nrules: []\nreasoning: {enabled: true, project: p, max_calls_per_hour: 0}\n")
    assert load_policy_text("version: 1\nrules: []\n").reasoning == {}
