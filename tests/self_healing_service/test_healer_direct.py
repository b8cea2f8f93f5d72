"""The healer through its HTTP routes, against the stand-in cluster and a ChatOps receiver on loopback."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from local_scenario.http_receiver import Answer, HttpReceiver
from self_healing_service.ledger import InMemoryLedger
from self_healing_service.main import create_app
from tests.self_healing_service.conftest import healer_settings, incident_doc, pods_of, push_body

AUDIENCE = "https://healer.example.run.app"
PUSH_SA = "pubsub-push@acme-prod.iam.gserviceaccount.com"


def restarts(cluster: Any) -> list[Any]:
    return [r for r in cluster.mutating_requests() if r.method == "PATCH" and "/deployments/" in r.path]


def make_client(cluster: Any, chatops: HttpReceiver | None = None, **overrides: Any) -> Any:
    if chatops is not None:
        overrides.setdefault("HEALER_CHATOPS_URL", chatops.url)
    app = create_app(healer_settings(cluster, **overrides), ledger=InMemoryLedger())
    return app.test_client()


def notifications(receiver: HttpReceiver) -> list[dict[str, Any]]:
    return [r.json() for r in receiver.matching("/notify")]


def test_open_incident_restarts_once_and_notifies(cluster: Any, chatops_receiver: HttpReceiver) -> None:
    client = make_client(cluster, chatops_receiver)
    pod = pods_of(cluster, "shop", "checkout")[0]
    before = set(pods_of(cluster, "shop", "checkout"))
    response = client.post("/", data=push_body(incident_doc(pod_name=pod)), content_type="application/json")
    assert response.status_code == 204, response.data
    [patch] = restarts(cluster)
    body = patch.body if isinstance(patch.body, dict) else json.loads(patch.body)
    assert "kubectl.kubernetes.io/restartedAt" in body["spec"]["template"]["metadata"]["annotations"]
    assert set(pods_of(cluster, "shop", "checkout")).isdisjoint(before)  # the pods really rolled
    [note] = notifications(chatops_receiver)
    assert note["schema_version"] == "1"
    assert note["decision"]["outcome"] == "acted" and note["decision"]["action"] == "restart"
    assert note["target"]["name"] == "checkout" and note["target"]["namespace"] == "shop"
    # the same delivery again: handled as a duplicate, no second restart, no second notification
    assert (
        client.post("/", data=push_body(incident_doc(pod_name=pod)), content_type="application/json").status_code == 204
    )
    assert len(restarts(cluster)) == 1 and len(notifications(chatops_receiver)) == 1


def test_deployment_found_through_owner_references(cluster: Any, chatops_receiver: HttpReceiver) -> None:
    client = make_client(cluster, chatops_receiver)
    pod = pods_of(cluster, "shop", "checkout")[0]
    doc = incident_doc(pod_name=pod)
    doc["incident"]["metadata"]["system_labels"] = {}
    assert client.post("/", data=push_body(doc), content_type="application/json").status_code == 204
    assert len(restarts(cluster)) == 1
    assert notifications(chatops_receiver)[0]["target"]["name"] == "checkout"


@pytest.mark.parametrize(
    ("changes", "reason", "words"),
    [
        ({"namespace_name": "kube-system", "controller": "kube-dns"}, "protected_namespace", "protected"),
        ({"controller": "cart"}, "opted_out", "opted out"),
    ],
)
def test_guards_refuse_and_say_why(
    cluster: Any, chatops_receiver: HttpReceiver, changes: dict, reason: str, words: str
) -> None:
    client = make_client(cluster, chatops_receiver)
    namespace = changes.get("namespace_name", "shop")
    app = changes["controller"]
    pod = pods_of(cluster, namespace, app)[0]
    assert (
        client.post(
            "/", data=push_body(incident_doc(pod_name=pod, **changes)), content_type="application/json"
        ).status_code
        == 204
    )
    assert cluster.mutating_requests() == []
    [note] = notifications(chatops_receiver)
    assert note["decision"]["outcome"] == "refused" and note["decision"]["reason"] == reason
    assert words in note["decision"]["detail"]


def test_cooldown_refuses_a_second_incident_on_the_same_target(cluster: Any, chatops_receiver: HttpReceiver) -> None:
    client = make_client(cluster, chatops_receiver)
    pod = pods_of(cluster, "shop", "checkout")[0]
    assert (
        client.post("/", data=push_body(incident_doc(pod_name=pod)), content_type="application/json").status_code == 204
    )
    second = incident_doc(pod_name=pods_of(cluster, "shop", "checkout")[0], incident_id="0.second")
    assert client.post("/", data=push_body(second), content_type="application/json").status_code == 204
    assert len(restarts(cluster)) == 1
    outcomes = [(n["decision"]["outcome"], n["decision"]["reason"]) for n in notifications(chatops_receiver)]
    assert outcomes == [("acted", "policy:high-cpu"), ("refused", "cooldown")]
    assert "cooldown is 600s" in notifications(chatops_receiver)[1]["decision"]["detail"]


def test_budget_refuses_when_spent(cluster: Any, chatops_receiver: HttpReceiver, tmp_path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "version: 1\ndefaults:\n  cooldown: 0s\n  budgets:\n    per_target: {limit: 2, window: 1h}\n"
        "rules:\n  - name: cpu\n    match: {kinds: [high_cpu]}\n    ladder: [{action: restart}]\n"
    )
    client = make_client(cluster, chatops_receiver, HEALER_POLICY_FILE=str(policy))
    for n in range(3):
        doc = incident_doc(pod_name=pods_of(cluster, "shop", "checkout")[0], incident_id=f"0.budget{n}")
        assert client.post("/", data=push_body(doc), content_type="application/json").status_code == 204
    assert len(restarts(cluster)) == 2
    last = notifications(chatops_receiver)[-1]["decision"]
    assert last["outcome"] == "refused" and last["reason"] == "budget_target"
    assert "budget spent" in last["detail"]


def test_dry_run_makes_zero_mutating_calls(
    cluster: Any, chatops_receiver: HttpReceiver, caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(cluster, chatops_receiver, HEALER_DRY_RUN="true")
    pod = pods_of(cluster, "shop", "checkout")[0]
    with caplog.at_level(logging.INFO):
        assert (
            client.post("/", data=push_body(incident_doc(pod_name=pod)), content_type="application/json").status_code
            == 204
        )
    assert cluster.mutating_requests() == []
    assert f"Healing action would be triggered for shop/{pod} (deployment checkout)" in caplog.text
    [note] = notifications(chatops_receiver)
    assert note["decision"]["outcome"] == "dry_run" and note["decision"]["dry_run"] is True


def test_closed_incident_after_action_is_reported_as_healed(cluster: Any, chatops_receiver: HttpReceiver) -> None:
    client = make_client(cluster, chatops_receiver)
    pod = pods_of(cluster, "shop", "checkout")[0]
    client.post("/", data=push_body(incident_doc(pod_name=pod)), content_type="application/json")
    closed = incident_doc("cpu_high_closed.json", pod_name=pod)
    assert client.post("/", data=push_body(closed), content_type="application/json").status_code == 204
    last = notifications(chatops_receiver)[-1]
    assert last["incident"]["state"] == "closed" and last["decision"]["outcome"] == "verified"
    assert last["decision"]["parameters"]["time_to_recover_s"] == 600.0


def test_chatops_unreachable_answers_503_then_retries_only_the_notification(cluster: Any) -> None:
    with HttpReceiver(default=Answer(503, b"down")) as chatops:
        ledger = InMemoryLedger()
        app = create_app(
            healer_settings(cluster, HEALER_CHATOPS_URL=chatops.url, HEALER_NOTIFY_ATTEMPTS="2"), ledger=ledger
        )
        client = app.test_client()
        pod = pods_of(cluster, "shop", "checkout")[0]
        body = push_body(incident_doc(pod_name=pod))
        assert client.post("/", data=body, content_type="application/json").status_code == 503
        assert len(chatops.matching("/notify")) == 2  # bounded retries
        # the ledger says the decision was taken and the notification was not delivered, and why
        [record] = [r for r in ledger.recent_decisions(limit=5)]
        stored = ledger.get_record(f"0.nq8x2k5v1abc|open|{record['target_key']}|a0")
        assert stored is not None and stored["outcome"] == "acted"
        assert stored["notified"] is False and "HTTP 503" in stored["notify_error"]
        chatops.set_default(Answer(204, b""))
        assert client.post("/", data=body, content_type="application/json").status_code == 204
        assert len(restarts(cluster)) == 1  # the redelivery did not act again
        assert len(chatops.matching("/notify")) == 3


def test_test_notification_and_malformed_messages(cluster: Any) -> None:
    client = make_client(cluster)
    assert (
        client.post(
            "/", data=push_body(incident_doc("console_test_notification.json")), content_type="application/json"
        ).status_code
        == 204
    )
    bad = client.post("/", data=b'{"message": {"data": "bm90IGpzb24="}}', content_type="application/json")
    assert bad.status_code == 400 and b"not JSON" in bad.data
    assert cluster.mutating_requests() == []


def test_kubernetes_unavailable_is_a_503(tmp_path, chatops_receiver: HttpReceiver) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "gone",
                "clusters": [{"name": "gone", "cluster": {"server": "http://127.0.0.1:9"}}],
                "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "u"}}],
                "users": [{"name": "u", "user": {"token": "t"}}],
            }
        )
    )

    class Gone:
        kubeconfig_path = str(kubeconfig)

    client = make_client(Gone(), chatops_receiver, HEALER_KUBE_TIMEOUT_SECONDS="1")
    doc = incident_doc()
    doc["incident"]["metadata"]["system_labels"] = {}
    assert client.post("/", data=push_body(doc), content_type="application/json").status_code == 503


# ------------------------------------------------------------------ authentication


def auth_client(cluster: Any, token_signer: Any, chatops: HttpReceiver) -> Any:
    app = create_app(
        healer_settings(
            cluster,
            HEALER_AUTH_DISABLED="false",
            HEALER_PUSH_AUDIENCE=AUDIENCE,
            HEALER_PUSH_SERVICE_ACCOUNTS=PUSH_SA,
            HEALER_OIDC_CERTS_URL=token_signer.certs_url,
            HEALER_CHATOPS_URL=chatops.url,
        ),
        ledger=InMemoryLedger(),
    )
    return app.test_client()


def test_valid_push_token_is_accepted(cluster: Any, token_signer: Any, chatops_receiver: HttpReceiver) -> None:
    client = auth_client(cluster, token_signer, chatops_receiver)
    token = token_signer.token(audience=AUDIENCE, email=PUSH_SA)
    pod = pods_of(cluster, "shop", "checkout")[0]
    response = client.post(
        "/",
        data=push_body(incident_doc(pod_name=pod)),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 204
    assert len(restarts(cluster)) == 1


@pytest.mark.parametrize(
    ("make_header", "status", "words"),
    [
        (lambda s: None, 401, "missing Authorization"),
        (lambda s: "Basic abc", 401, "Bearer"),
        (lambda s: "Bearer not-a-jwt", 401, "invalid token"),
        (lambda s: "Bearer " + s.token(audience="https://other.run.app", email=PUSH_SA), 401, "invalid token"),
        (lambda s: "Bearer " + s.token(audience=AUDIENCE, email=PUSH_SA, expires_in=-120), 401, "invalid token"),
        (lambda s: "Bearer " + s.token(audience=AUDIENCE, email=PUSH_SA, issuer="https://evil.example"), 401, "issuer"),
        (
            lambda s: "Bearer " + s.token(audience=AUDIENCE, email="intruder@x.iam.gserviceaccount.com"),
            403,
            "not allowed",
        ),
        (lambda s: "Bearer " + s.token(audience=AUDIENCE, email=PUSH_SA, email_verified=False), 403, "verified"),
    ],
)
def test_bad_tokens_are_refused_before_any_kubernetes_call(
    cluster: Any, token_signer: Any, chatops_receiver: HttpReceiver, make_header: Any, status: int, words: str
) -> None:
    client = auth_client(cluster, token_signer, chatops_receiver)
    cluster.clear_requests()
    header = make_header(token_signer)
    headers = {"Authorization": header} if header else {}
    response = client.post("/", data=push_body(incident_doc()), content_type="application/json", headers=headers)
    assert response.status_code == status
    assert words in response.get_data(as_text=True)
    assert cluster.requests == [] or list(cluster.requests) == []
    assert chatops_receiver.received == []


def test_token_signed_by_another_key_is_refused(
    cluster: Any, token_signer: Any, chatops_receiver: HttpReceiver
) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    client = auth_client(cluster, token_signer, chatops_receiver)
    token = token_signer.token(audience=AUDIENCE, email=PUSH_SA, key=other)
    response = client.post(
        "/",
        data=push_body(incident_doc()),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 401


def test_metrics_count_incidents_decisions_and_kube_calls(cluster: Any, chatops_receiver: HttpReceiver) -> None:
    client = make_client(cluster, chatops_receiver)
    before = client.get("/metrics").get_data(as_text=True)
    pod = pods_of(cluster, "shop", "checkout")[0]
    client.post("/", data=push_body(incident_doc(pod_name=pod)), content_type="application/json")
    client.post("/", data=push_body(incident_doc(pod_name=pod)), content_type="application/json")
    client.post("/", data=b"{}", content_type="application/json")
    after = client.get("/metrics").get_data(as_text=True)

    def value(text: str, line_start: str) -> float:
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(line_start))

    assert value(after, 'healer_incidents_received_total{kind="high_cpu",state="open"}') - value(
        before, 'healer_incidents_received_total{kind="high_cpu",state="open"}') == 2
    assert value(after, 'healer_decisions_total{action="restart",outcome="acted"') - value(
        before, 'healer_decisions_total{action="restart",outcome="acted"') == 1
    assert value(after, 'healer_ledger_conflicts_total{status="done"}') - value(
        before, 'healer_ledger_conflicts_total{status="done"}') == 1
    assert value(after, "healer_malformed_messages_total") - value(before, "healer_malformed_messages_total") == 1
    assert value(after, 'healer_kube_api_calls_total{error="none",resource="deployments",verb="patch"}') - value(
        before, 'healer_kube_api_calls_total{error="none",resource="deployments",verb="patch"}') == 1
    assert value(after, "healer_notifications_total") - value(before, "healer_notifications_total") == 1
    assert "healer_action_duration_seconds_bucket" in after


def test_circuit_breaker_stops_all_actions_in_the_cluster_and_says_so(cluster: Any, chatops_receiver: HttpReceiver,
                                                                      tmp_path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ndefaults:\n  cooldown: 0s\n  circuit_breaker: {limit: 1, window: 10m}\n"
                      "rules:\n  - name: any\n    match: {kinds: [high_cpu]}\n    ladder: [{action: restart}]\n")
    client = make_client(cluster, chatops_receiver, HEALER_POLICY_FILE=str(policy))
    for n, app in enumerate(("checkout", "checkout")):
        doc = incident_doc(pod_name=pods_of(cluster, "shop", app)[0], incident_id=f"0.breaker{n}")
        client.post("/", data=push_body(doc), content_type="application/json")
    last = notifications(chatops_receiver)[-1]["decision"]
    assert last["outcome"] == "refused" and last["reason"] == "circuit_breaker"
    assert "circuit breaker open" in last["detail"] and "all actions in it are stopped" in last["detail"]
    assert len(restarts(cluster)) == 1


def test_maintenance_window_refuses(cluster: Any, chatops_receiver: HttpReceiver, tmp_path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("version: 1\ndefaults:\n  maintenance_windows:\n"
                      "    - {days: [mon, tue, wed, thu, fri, sat, sun], start: '00:00', end: '23:59'}\n"
                      "rules:\n  - name: any\n    match: {kinds: [high_cpu]}\n    ladder: [{action: restart}]\n")
    client = make_client(cluster, chatops_receiver, HEALER_POLICY_FILE=str(policy))
    client.post("/", data=push_body(incident_doc(pod_name=pods_of(cluster, "shop", "checkout")[0])),
                content_type="application/json")
    [note] = notifications(chatops_receiver)
    assert note["decision"]["reason"] == "maintenance_window"
    assert cluster.mutating_requests() == []


def test_evidence_is_captured_before_the_action_and_every_decision_is_audited(
        cluster: Any, chatops_receiver: HttpReceiver, tmp_path) -> None:
    import duckdb

    audit = tmp_path / "actions.duckdb"
    client = make_client(cluster, chatops_receiver, HEALER_EVIDENCE_BUCKET=str(tmp_path / "evidence"),
                         HEALER_ACTIONS_TABLE=f"duckdb:{audit}")
    pod = pods_of(cluster, "shop", "checkout")[0]
    client.post("/", data=push_body(incident_doc(pod_name=pod)), content_type="application/json")
    client.post("/", data=push_body(incident_doc(pod_name=pods_of(cluster, "shop", "checkout")[0],
                                                 incident_id="0.again")), content_type="application/json")
    first = notifications(chatops_receiver)[0]
    evidence = json.loads(Path(first["links"]["evidence"]).read_text())
    assert evidence["pod"] == pod and evidence["action"] == "restart"
    assert "checkout" in evidence["logs"] and evidence["status"]["phase"] == "Running"
    with duckdb.connect(str(audit)) as con:
        rows = con.execute("SELECT incident_id, outcome, reason, action, target_name, evidence_uri "
                           "FROM healing_actions ORDER BY decided_at").fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [("0.nq8x2k5v1abc", "acted", "policy:high-cpu"),
                                                  ("0.again", "refused", "cooldown")]
    assert rows[0][3] == "restart" and rows[0][4] == "checkout" and rows[0][5] == first["links"]["evidence"]


def test_each_decision_is_one_cloud_logging_json_line_with_the_trace(cluster: Any,
                                                                     chatops_receiver: HttpReceiver) -> None:
    from self_healing_service.logging_setup import CloudLoggingFormatter

    lines: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(CloudLoggingFormatter().format(record))

    handler = Capture()
    logger = logging.getLogger("self_healing_service.decisions")
    logger.addHandler(handler)
    try:
        client = make_client(cluster, chatops_receiver, GOOGLE_CLOUD_PROJECT="acme-prod")
        pod = pods_of(cluster, "shop", "checkout")[0]
        client.post("/", data=push_body(incident_doc(pod_name=pod)), content_type="application/json",
                    headers={"X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1"})
    finally:
        logger.removeHandler(handler)
    [line] = lines
    entry = json.loads(line)
    assert entry["severity"] == "INFO"
    assert entry["message"].startswith("healer decision: acted restart on prod-gke/shop/checkout")
    assert entry["logging.googleapis.com/trace"] == "projects/acme-prod/traces/105445aa7843bc8bf206b12000100000"
    assert entry["decision"]["incident_id"] == "0.nq8x2k5v1abc" and entry["decision"]["outcome"] == "acted"


def test_opt_in_mode_acts_only_on_annotated_deployments(cluster: Any, chatops_receiver: HttpReceiver) -> None:
    client = make_client(cluster, chatops_receiver, HEALER_OPT_IN_MODE="true")
    pod = pods_of(cluster, "shop", "checkout")[0]
    client.post("/", data=push_body(incident_doc(pod_name=pod)), content_type="application/json")
    [note] = notifications(chatops_receiver)
    assert note["decision"]["reason"] == "not_opted_in" and "healer.selfheal.dev/enabled" in note["decision"]["detail"]
    assert cluster.mutating_requests() == []
