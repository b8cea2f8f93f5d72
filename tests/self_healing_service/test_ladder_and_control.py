"""The action ladder (verification by re-notification, escalation, undo) and the control API."""

from __future__ import annotations

import json
from typing import Any

from local_scenario.http_receiver import HttpReceiver
from self_healing_service.healer import Healer
from self_healing_service.incident import Incident, parse_notification
from self_healing_service.kube import ClusterConnector
from self_healing_service.ledger import InMemoryLedger
from self_healing_service.main import create_app
from self_healing_service.notifier import ChatOpsNotifier
from self_healing_service.policy import load_policy_text
from tests.self_healing_service.conftest import healer_settings, incident_doc, pods_of, push_body

LADDER = """\
version: 1
defaults: {cooldown: 5m}
rules:
  - name: cpu
    match: {kinds: [high_cpu]}
    ladder:
      - action: restart
      - action: scale_out
        params: {max_replicas: 4, step: 1}
    verify: {timeout: 5s, recheck_after: 10m}
    on_exhausted: undo
"""


def parse(doc: dict) -> Incident:
    incident = parse_notification(json.dumps(doc).encode())
    assert isinstance(incident, Incident)
    return incident


def test_ladder_escalates_when_the_fix_does_not_hold_then_undoes_and_escalates(
    cluster: Any, chatops_receiver: HttpReceiver
) -> None:
    now = [1_800_000_000.0]
    settings = healer_settings(cluster, HEALER_CHATOPS_URL=chatops_receiver.url)
    healer = Healer(
        settings,
        load_policy_text(LADDER),
        InMemoryLedger(),
        ClusterConnector(mode="kubeconfig", kubeconfig=cluster.kubeconfig_path),
        ChatOpsNotifier(settings),
        clock=lambda: now[0],
    )
    incident = parse(incident_doc(pod_name=pods_of(cluster, "shop", "checkout")[0]))

    first = healer.handle(incident)
    assert [(d.outcome, d.action) for d in first.decisions] == [("acted", "restart")]
    assert healer.handle(incident).status == "duplicate"  # a redelivery seconds later

    now[0] += 700  # Cloud Monitoring re-notifies: the incident is still open after recheck_after
    second = healer.handle(incident)
    assert [(d.outcome, d.action) for d in second.decisions] == [("acted", "scale_out")]
    assert second.decisions[0].parameters["to"] == 3

    now[0] += 700  # still open at the end of the ladder: undo our own change, escalate to a human
    third = healer.handle(incident)
    [decision] = third.decisions
    assert decision.outcome == "escalated" and decision.needs_human
    assert "scale deployment shop/checkout from 3 back to 2" in decision.detail
    notes = [r.json()["decision"]["outcome"] for r in chatops_receiver.matching("/notify")]
    assert notes == ["acted", "acted", "escalated"]


def control(client: Any, command: dict) -> Any:
    return client.post("/control/v1/commands", data=json.dumps(command), content_type="application/json")


def test_silence_from_chat_makes_the_healer_refuse(cluster: Any, chatops_receiver: HttpReceiver) -> None:
    client = create_app(
        healer_settings(cluster, HEALER_CHATOPS_URL=chatops_receiver.url), ledger=InMemoryLedger()
    ).test_client()
    command = {
        "command": "silence",
        "request_id": "click-1",
        "duration_seconds": 3600,
        "actor": {"id": "U123", "display": "alice", "source": "slack"},
        "target": {"namespace": "shop", "name": "checkout"},
    }
    response = control(client, command)
    assert response.status_code == 200 and response.json["ok"]
    assert control(client, command).json["data"] == {"duplicate": True}  # a retried click applies once
    pod = pods_of(cluster, "shop", "checkout")[0]
    assert (
        client.post("/", data=push_body(incident_doc(pod_name=pod)), content_type="application/json").status_code == 204
    )
    assert cluster.mutating_requests() == []
    [note] = [r.json() for r in chatops_receiver.matching("/notify")]
    assert note["decision"]["reason"] == "silenced" and "alice" in note["decision"]["detail"]
    status = client.get("/control/v1/status").json
    assert status["silenced"][0]["target_key"] == "*/shop/checkout"
    assert control(client, {**command, "command": "resume", "request_id": "click-2"}).json["ok"]
    history = client.get("/control/v1/history?namespace=shop&name=checkout").json["decisions"]
    assert history[0]["reason"] == "silenced"


def test_held_action_runs_when_approved_from_chat(cluster: Any, chatops_receiver: HttpReceiver, tmp_path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\nrules:\n  - name: cpu\n    match: {kinds: [high_cpu]}\n"
        "    ladder: [{action: restart, approval: true}]\n"
    )
    client = create_app(
        healer_settings(cluster, HEALER_CHATOPS_URL=chatops_receiver.url, HEALER_POLICY_FILE=str(policy)),
        ledger=InMemoryLedger(),
    ).test_client()
    pod = pods_of(cluster, "shop", "checkout")[0]
    client.post("/", data=push_body(incident_doc(pod_name=pod)), content_type="application/json")
    assert cluster.mutating_requests() == []
    assert client.get("/control/v1/status").json["pending_approvals"][0]["action"] == "restart"
    approve = {
        "command": "approve",
        "request_id": "click-9",
        "incident_id": "0.nq8x2k5v1abc",
        "actor": {"id": "U1", "display": "bob", "source": "slack"},
    }
    response = control(client, approve)
    assert response.status_code == 200, response.data
    assert response.json["data"]["outcome"] == "acted"
    assert len([r for r in cluster.mutating_requests() if r.verb == "patch"]) == 1
    assert control(client, {**approve, "request_id": "click-10"}).status_code == 409  # nothing held any more
    outcomes = [r.json()["decision"]["outcome"] for r in chatops_receiver.matching("/notify")]
    assert outcomes == ["held_for_approval", "acted"]


def test_malformed_control_commands_are_400(cluster: Any) -> None:
    client = create_app(healer_settings(cluster), ledger=InMemoryLedger()).test_client()
    response = control(client, {"command": "reboot", "request_id": "x", "actor": {"id": "U"}})
    assert response.status_code == 400 and b"not one of" in response.data
    response = control(
        client,
        {"command": "pause", "request_id": "x", "actor": {"id": "U"}, "target": {"namespace": "shop", "name": "web"}},
    )
    assert response.status_code == 400 and b"duration_seconds" in response.data


def test_a_close_arriving_while_the_open_is_still_being_handled_is_retried(
    cluster: Any, chatops_receiver: HttpReceiver
) -> None:
    import pytest

    from self_healing_service.errors import TransientError

    settings = healer_settings(cluster, HEALER_CHATOPS_URL=chatops_receiver.url)
    ledger = InMemoryLedger()
    healer = Healer(
        settings,
        load_policy_text(LADDER),
        ledger,
        ClusterConnector(mode="kubeconfig", kubeconfig=cluster.kubeconfig_path),
        ChatOpsNotifier(settings),
    )
    pod = pods_of(cluster, "shop", "checkout")[0]
    opened = parse(incident_doc(pod_name=pod))
    closed = parse(incident_doc("cpu_high_closed.json", pod_name=pod))
    target_key = "prod-gke/shop/checkout"
    # another instance holds the open incident's claim (it is in the middle of its rollout check)
    assert ledger.claim(f"{opened.incident_id}|open|{target_key}|a0", "other", 1e12 - 10, 60).status == "new"
    with pytest.raises(TransientError, match="still being handled"):
        healer.handle(closed)
    assert chatops_receiver.matching("/notify") == []
    ledger.release(f"{opened.incident_id}|open|{target_key}|a0", "other")
    healer.handle(opened)
    healer.handle(closed)  # the redelivered close now sees the action and reports it healed
    outcomes = [r.json()["decision"]["outcome"] for r in chatops_receiver.matching("/notify")]
    assert outcomes == ["acted", "verified"]


def test_scale_out_is_scaled_back_when_the_incident_closes(cluster: Any, chatops_receiver: HttpReceiver) -> None:
    policy = load_policy_text(
        "version: 1\nrules:\n  - name: load\n    match: {kinds: [high_cpu]}\n    ladder:\n"
        "      - {action: scale_out, params: {max_replicas: 5, step: 2, scale_back_on_close: true}}\n"
    )
    settings = healer_settings(cluster, HEALER_CHATOPS_URL=chatops_receiver.url)
    healer = Healer(
        settings,
        policy,
        InMemoryLedger(),
        ClusterConnector(mode="kubeconfig", kubeconfig=cluster.kubeconfig_path),
        ChatOpsNotifier(settings),
    )
    pod = pods_of(cluster, "shop", "checkout")[0]
    [opened] = healer.handle(parse(incident_doc(pod_name=pod))).decisions
    assert opened.outcome == "acted" and opened.parameters["to"] == 4
    [closed] = healer.handle(parse(incident_doc("cpu_high_closed.json", pod_name=pod))).decisions
    assert closed.outcome == "verified" and "back to 2" in closed.detail
    scales = [r.body["spec"]["replicas"] for r in cluster.mutating_requests() if r.path.endswith("/scale")]
    assert scales == [4, 2]


def test_a_not_ready_node_incident_cordons_and_drains_that_node(cluster: Any, chatops_receiver: HttpReceiver) -> None:
    settings = healer_settings(cluster, HEALER_CHATOPS_URL=chatops_receiver.url)
    healer = Healer(
        settings,
        load_policy_text(
            "version: 1\nrules:\n  - name: nodes\n    match: {kinds: [node_not_ready]}\n"
            "    ladder: [{action: drain_node, params: {max_unavailable_share: 0.5}}]\n"
        ),
        InMemoryLedger(),
        ClusterConnector(mode="kubeconfig", kubeconfig=cluster.kubeconfig_path),
        ChatOpsNotifier(settings),
    )
    pod = pods_of(cluster, "shop", "checkout")[0]
    node = next(p for p in cluster.list("pods", "shop") if p["metadata"]["name"] == pod)["spec"]["nodeName"]
    cluster.set_node_ready(node, False)
    on_node = {p["metadata"]["name"] for p in cluster.list("pods") if p["spec"].get("nodeName") == node}
    doc = incident_doc(incident_id="0.node1")
    inc = doc["incident"]
    inc["resource"] = {
        "type": "k8s_node",
        "labels": {
            "project_id": "acme-prod",
            "location": "europe-west1",
            "cluster_name": "prod-gke",
            "node_name": node,
        },
    }
    inc["metric"] = {"type": "kubernetes.io/node/status_condition", "labels": {"condition": "Ready"}}
    inc["metadata"] = {"system_labels": {}, "user_labels": {}}
    inc["policy_user_labels"] = {}
    [decision] = healer.handle(parse(doc)).decisions
    assert decision.outcome == "acted" and decision.action == "drain_node", decision.detail
    assert cluster.get("nodes", "", node)["spec"]["unschedulable"] is True
    evicted = {r.path.split("/")[-2] for r in cluster.mutating_requests() if r.path.endswith("/eviction")}
    assert evicted and evicted <= on_node  # only that node's pods were evicted
    note = chatops_receiver.matching("/notify")[0].json()
    assert note["target"]["kind"] == "Node" and note["target"]["node"] == node
