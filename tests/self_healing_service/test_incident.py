"""The push envelope and Cloud Monitoring notification parser (pure, no I/O)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from self_healing_service.incident import (
    ConsoleTestNotification,
    Incident,
    MalformedMessage,
    parse_notification,
    parse_push_envelope,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "alerts"


def envelope(doc: object) -> bytes:
    data = base64.b64encode(json.dumps(doc).encode()).decode()
    return json.dumps(
        {
            "message": {"data": data, "messageId": "1", "message_id": "1", "publishTime": "2025-01-01T00:00:05Z"},
            "subscription": "projects/acme-prod/subscriptions/alerts-to-healer",
        }
    ).encode()


def load(name: str) -> dict:
    return json.loads((DATA / name).read_text())


def test_open_cpu_incident_parses_with_controller_labels() -> None:
    message = parse_push_envelope(envelope(load("cpu_high_open.json")))
    incident = parse_notification(message.data)
    assert isinstance(incident, Incident)
    assert incident.state == "open"
    assert incident.kind == "high_cpu"
    assert incident.resource_labels["pod_name"] == "checkout-7d9f8b6c5d-x2kqp"
    assert incident.controller_name == "checkout"
    assert incident.controller_type == "Deployment"
    assert incident.observed_value == pytest.approx(0.973)
    assert incident.threshold_value == pytest.approx(0.9)
    assert incident.severity == "critical"
    assert incident.ended_at is None
    assert message.message_id == "1"


def test_closed_incident_and_pod_resource() -> None:
    closed = parse_notification(json.dumps(load("cpu_high_closed.json")).encode())
    assert isinstance(closed, Incident) and closed.state == "closed" and closed.ended_at == 1735690200
    crash = parse_notification(json.dumps(load("crash_loop_pod_open.json")).encode())
    assert isinstance(crash, Incident)
    assert crash.kind == "crash_loop" and crash.resource_type == "k8s_pod" and crash.controller_name == ""


def test_console_test_notification_is_recognised() -> None:
    parsed = parse_notification(json.dumps(load("console_test_notification.json")).encode())
    assert isinstance(parsed, ConsoleTestNotification)


def test_kind_falls_back_to_metric_type() -> None:
    doc = load("cpu_high_open.json")
    doc["incident"]["policy_user_labels"] = {}
    doc["incident"]["metric"]["type"] = "custom.googleapis.com/healer/anomaly_score"
    doc["incident"]["metric"]["labels"] = {
        "controller_name": "checkout",
        "controller_kind": "Deployment",
        "model_version": "v7",
    }
    doc["incident"]["metadata"]["system_labels"] = {}
    incident = parse_notification(json.dumps(doc).encode())
    assert isinstance(incident, Incident)
    assert incident.kind == "anomaly" and incident.controller_name == "checkout" and incident.model_version == "v7"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["incident"].pop("incident_id"), "incident_id"),
        (lambda d: d["incident"].update(state="resolved"), "state"),
        (lambda d: d["incident"]["resource"].update(type="gce_instance"), "resource.type"),
        (lambda d: d["incident"].update(observed_value="high"), "observed_value"),
        (lambda d: d.update(version="1.1"), "version"),
        (lambda d: d["incident"].update(started_at=-5), "started_at"),
        (lambda d: d["incident"]["resource"].update(labels=["x"]), "resource.labels"),
    ],
)
def test_malformed_incidents_say_what_is_wrong(mutate, message: str) -> None:
    doc = load("cpu_high_open.json")
    mutate(doc)
    with pytest.raises(MalformedMessage, match=message.replace(".", r"\.")):
        parse_notification(json.dumps(doc).encode())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not JSON"),
        (b"[]", "JSON object"),
        (b"{}", "message"),
        (json.dumps({"message": {"data": ""}}).encode(), "data"),
        (json.dumps({"message": {"data": "***"}}).encode(), "base64"),
    ],
)
def test_malformed_envelopes_say_what_is_wrong(body: bytes, message: str) -> None:
    with pytest.raises(MalformedMessage, match=message):
        parse_push_envelope(body)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(doc=json_values)
def test_arbitrary_json_never_escapes_as_anything_but_malformed(doc: object) -> None:
    """Whatever JSON arrives, the parser answers a result or MalformedMessage (-> 400), never a crash (-> 5xx)."""
    for body in (json.dumps(doc).encode(), envelope(doc)):
        try:
            parse_notification(parse_push_envelope(body).data)
        except MalformedMessage:
            pass


@settings(max_examples=200, deadline=None)
@given(
    incident=st.dictionaries(
        st.sampled_from(
            [
                "incident_id",
                "state",
                "resource",
                "metric",
                "metadata",
                "observed_value",
                "started_at",
                "policy_user_labels",
                "documentation",
                "severity",
                "ended_at",
            ]
        ),
        json_values,
        max_size=11,
    )
)
def test_arbitrary_incident_fields_never_crash(incident: dict) -> None:
    try:
        parse_notification(json.dumps({"version": "1.2", "incident": incident}).encode())
    except MalformedMessage:
        pass
