"""ChatOps exposes delivery health as Prometheus metrics at /metrics."""

from __future__ import annotations


def _value(text: str, prefix: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(prefix))


def test_notify_and_deliveries_are_counted(harness, load) -> None:
    client = harness.client
    before = client.get("/metrics").get_data(as_text=True)
    doc = load("notification_acted_high_cpu.json")
    assert harness.notify(doc).status_code == 200
    assert harness.notify(doc).status_code == 200  # the healer's retry: de-duplicated
    after = client.get("/metrics").get_data(as_text=True)
    delivered = 'chatops_deliveries_total{kind="slack_bot",outcome="delivered"}'
    duplicate = 'chatops_deliveries_total{kind="slack_bot",outcome="duplicate"}'
    assert _value(after, delivered) - _value(before, delivered) == 1
    assert _value(after, duplicate) - _value(before, duplicate) == 1
    ok = 'chatops_notify_requests_total{status="200"}'
    assert _value(after, ok) - _value(before, ok) == 2
