"""POST /notify end to end: routing, real payload shapes, threading, de-duplication, retries, failures."""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

import pytest
from slack_sdk.models.blocks import ActionsBlock, Block, HeaderBlock

from chatops_service.structured_log import CloudLoggingFormatter

DATA_ACTED = "notification_acted_high_cpu.json"


def _blocks_valid(blocks: list[dict[str, Any]]) -> list[Block]:
    parsed = Block.parse_all(blocks)
    assert len(parsed) == len(blocks) <= 50
    for block in parsed:
        block.validate_json()
    assert [b.to_dict() for b in parsed] == blocks  # nothing unknown to slack_sdk's models
    return parsed


def _with(doc: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    for path, value in changes.items():
        node = out
        keys = path.split("__")
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return out


def test_critical_notification_goes_to_slack_thread_and_teams_with_real_shapes(harness, load) -> None:
    doc = load(DATA_ACTED)
    resp = harness.notify(doc)
    assert resp.status_code == 200, resp.get_json()
    assert {d["destination"]: d["outcome"] for d in resp.get_json()["deliveries"]} == {
        "oncall-slack": "delivered",
        "ops-teams": "delivered",
    }

    posts = harness.chat.server.to("/api/chat.postMessage")
    assert len(posts) == 1
    assert posts[0].headers["Authorization"] == "Bearer xoxb-test-oncall"
    body = posts[0].json()
    assert body["channel"] == "C0ALERTS"
    assert body["text"].startswith("[CRITICAL] Healer restarted Deployment checkout")
    parsed = _blocks_valid(body["blocks"])
    assert isinstance(parsed[0], HeaderBlock)
    rendered = json.dumps(body["blocks"], ensure_ascii=False)
    for expected in ("prod-gke", "shop", "checkout-7d9f6c8b5-x2x9q", "97%", "90%", "policy_step", "Undo"):
        assert expected in rendered
    assert "console.cloud.google.com/monitoring/alerting/incidents/0.nq8x2k5v1abc" in rendered
    assert "console.cloud.google.com/logs/query" in rendered
    actions = next(b for b in parsed if isinstance(b, ActionsBlock))
    assert [e.action_id for e in actions.elements] == ["selfheal_acknowledge", "selfheal_silence", "selfheal_undo"]

    teams = harness.chat.server.to("/workflows/")
    assert len(teams) == 1
    envelope = teams[0].json()
    assert envelope["type"] == "message"
    attachment = envelope["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4" and card["body"]
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert all(a["type"] == "Action.OpenUrl" for a in card["actions"])
    action_urls = [a["url"] for a in card["actions"] if a["url"].startswith("https://chatops.example.com/teams/")]
    assert len(action_urls) == 3  # acknowledge, silence, undo


def test_one_thread_per_incident_and_first_message_updated_in_place(harness, load) -> None:
    opened = load(DATA_ACTED)
    verified = _with(opened, notification_id="n-verified", decision__outcome="verified")
    closed = _with(opened, notification_id="n-closed", decision__outcome="closed", incident__state="closed")
    other = _with(opened, notification_id="n-other", incident__incident_id="0.other")
    for doc in (opened, verified, closed, other):
        assert harness.notify(doc).status_code == 200

    posts = harness.chat.posts("chat.postMessage")
    parents = [p for p in posts if "thread_ts" not in p]
    replies = [p for p in posts if "thread_ts" in p]
    assert len(parents) == 2  # one per incident
    first_ts = harness.state.get_thread("0.nq8x2k5v1abc", "oncall-slack").ts
    assert [r["thread_ts"] for r in replies] == [first_ts, first_ts]
    assert "Recovered" in replies[0]["text"] and "Resolved" in replies[1]["text"]
    updates = harness.chat.posts("chat.update")
    assert [u["ts"] for u in updates] == [first_ts, first_ts]
    last_parent = updates[-1]
    _blocks_valid(last_parent["blocks"])
    assert "Incident closed" in json.dumps(last_parent["blocks"], ensure_ascii=False)
    assert "Timeline" in json.dumps(last_parent["blocks"], ensure_ascii=False)
    for message in replies + updates:
        _blocks_valid(message["blocks"])


def test_repeated_notification_is_not_posted_twice(harness, load) -> None:
    doc = load(DATA_ACTED)
    first = harness.notify(doc)
    second = harness.notify(doc)
    assert first.status_code == second.status_code == 200
    assert {d["outcome"] for d in second.get_json()["deliveries"]} == {"duplicate"}
    assert len(harness.chat.server.to("/api/chat.postMessage")) == 1
    assert len(harness.chat.server.to("/workflows/")) == 1


def test_routing_by_namespace_label_and_default(harness, load) -> None:
    payments = load("notification_dry_run_crash_loop.json")  # namespace payments, severity error
    resp = harness.notify(payments)
    assert [d["destination"] for d in resp.get_json()["deliveries"]] == ["payments-webhook"]
    hooks = harness.chat.server.to("/services/T0ACME/B0PAY/secret")
    assert len(hooks) == 1
    _blocks_valid(hooks[0].json()["blocks"])

    unmatched = _with(
        load(DATA_ACTED),
        notification_id="n-default",
        incident__severity="warning",
        incident__user_labels={},
        target__labels={},
        target__namespace="batch",
    )
    resp = harness.notify(unmatched)
    assert [d["destination"] for d in resp.get_json()["deliveries"]] == ["oncall-slack"]


def test_dry_run_message_carries_the_healers_phrasing(harness, load) -> None:
    harness.notify(load("notification_dry_run_crash_loop.json"))
    body = harness.chat.server.to("/services/")[0].json()
    rendered = json.dumps(body["blocks"], ensure_ascii=False)
    assert "DRY RUN: would delete pod payments/ledger-5c6d7-abcde" in rendered
    assert "DRY RUN — the healer made no change" in rendered
    assert body["text"].startswith("[ERROR] Dry run: healer would delete pod ledger-5c6d7-abcde")
    assert "selfheal_undo" not in rendered  # nothing to undo after a dry run


def test_webhook_429_is_retried_after_the_retry_after_delay(harness, load) -> None:
    harness.chat.script("/services/", (429, {"Retry-After": "3"}, b"rate_limited"))
    resp = harness.notify(load("notification_dry_run_crash_loop.json"))
    assert resp.status_code == 200
    assert len(harness.chat.server.to("/services/")) == 2
    assert harness.sleeps == [3.0]
    assert resp.get_json()["deliveries"][0]["attempts"] == 2


def test_bot_token_429_is_retried_after_the_retry_after_delay(harness, load) -> None:
    harness.chat.script(
        "/api/chat.postMessage",
        (429, {"Retry-After": "2", "Content-Type": "application/json"}, b'{"ok":false,"error":"ratelimited"}'),
    )
    resp = harness.notify(_with(load(DATA_ACTED), incident__severity="warning"))
    assert resp.status_code == 200
    assert len(harness.chat.server.to("/api/chat.postMessage")) == 2
    assert harness.sleeps == [2.0]


def test_teams_5xx_is_retried_with_backoff_then_surfaces_as_5xx(harness, load, caplog) -> None:
    harness.chat.script("/workflows/", *[(500, {}, b"boom")] * 3)
    caplog.set_level(logging.INFO, logger="chatops_service")
    resp = harness.notify(load(DATA_ACTED))
    assert resp.status_code == 502
    assert "ops-teams" in resp.get_json()["error"]
    assert len(harness.chat.server.to("/workflows/")) == 3
    assert harness.sleeps == [0.25, 0.5]  # exponential backoff, no Retry-After given
    failed = [r for r in caplog.records if getattr(r, "json_fields", {}).get("delivery_outcome") == "failed"]
    assert len(failed) == 1 and failed[0].levelno == logging.ERROR
    assert failed[0].json_fields["destination"] == "ops-teams"

    # The healer retries: only the destination that failed is sent again.
    resp = harness.notify(load(DATA_ACTED))
    assert resp.status_code == 200
    outcomes = {d["destination"]: d["outcome"] for d in resp.get_json()["deliveries"]}
    assert outcomes == {"oncall-slack": "duplicate", "ops-teams": "delivered"}
    assert len(harness.chat.server.to("/api/chat.postMessage")) == 1


def test_unreachable_destination_is_5xx_and_logged_as_json(make_harness, load, unreachable_url, caplog) -> None:
    harness = make_harness(TEAMS_WORKFLOW_OPS=unreachable_url)
    caplog.set_level(logging.INFO, logger="chatops_service")
    resp = harness.client.post(
        "/notify",
        json=load(DATA_ACTED),
        headers={
            "Authorization": f"Bearer {harness.issuer.token()}",
            "X-Cloud-Trace-Context": "105445aa7843bc8bf206b12000100000/1;o=1",
        },
    )
    assert resp.status_code == 502
    record = next(r for r in caplog.records if getattr(r, "json_fields", {}).get("destination") == "ops-teams")
    line = json.loads(CloudLoggingFormatter("acme-prod").format(record))
    assert line["severity"] == "ERROR"
    assert line["delivery_outcome"] == "failed"
    assert "ConnectionError" in line["error"]
    assert line["logging.googleapis.com/trace"] == "projects/acme-prod/traces/105445aa7843bc8bf206b12000100000"


def test_long_retry_after_answers_503_with_retry_after(harness, load) -> None:
    harness.chat.script("/services/", (429, {"Retry-After": "120"}, b"rate_limited"))
    resp = harness.notify(load("notification_dry_run_crash_loop.json"))
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "120"
    assert harness.sleeps == []


def test_waiting_is_bounded_per_request(make_harness, load) -> None:
    harness = make_harness(CHATOPS_DELIVERY_WAIT_BUDGET_SECONDS="5", CHATOPS_DELIVERY_ATTEMPTS="5")
    harness.chat.script("/services/", *[(429, {"Retry-After": "4"}, b"rate_limited")] * 2)
    resp = harness.notify(load("notification_dry_run_crash_loop.json"))
    assert resp.status_code == 503  # 4s fit in the budget, the next 4s did not: the healer retries later
    assert resp.headers["Retry-After"] == "4"
    assert harness.sleeps == [4.0]
    assert len(harness.chat.server.to("/services/")) == 2


def test_acknowledged_incident_gets_no_repeats_but_state_changes(harness, load) -> None:
    opened = _with(load(DATA_ACTED), incident__severity="warning")
    harness.notify(opened)
    harness.state.acknowledge("0.nq8x2k5v1abc", "alice")
    repeat = _with(opened, notification_id="n-repeat", decision__outcome="refused", decision__reason="cooldown")
    resp = harness.notify(repeat)
    assert resp.get_json()["deliveries"][0]["outcome"] == "suppressed_acknowledged"
    assert len(harness.chat.server.to("/api/chat.postMessage")) == 1
    assert len(harness.chat.server.to("/api/chat.update")) == 1  # the first message still shows the state
    verified = _with(opened, notification_id="n-verified", decision__outcome="verified")
    assert harness.notify(verified).get_json()["deliveries"][0]["outcome"] == "delivered"
    assert len(harness.chat.server.to("/api/chat.postMessage")) == 2


@pytest.mark.parametrize(
    ("doc_change", "message"),
    [
        ({"schema_version": "2"}, "schema_version"),
        ({"decision__outcome": "exploded"}, "notification.decision.outcome"),
        ({"incident__state": "maybe"}, "notification.incident.state"),
        ({"notification_id": ""}, "notification.notification_id"),
    ],
)
def test_invalid_notification_is_400_with_what_is_wrong(harness, load, doc_change, message) -> None:
    resp = harness.notify(_with(load(DATA_ACTED), **doc_change))
    assert resp.status_code == 400
    assert message in resp.get_json()["error"]
    assert harness.chat.requests == []


def test_non_json_body_is_400(harness) -> None:
    resp = harness.client.post(
        "/notify", data=b"not json", headers={"Authorization": f"Bearer {harness.issuer.token()}"}
    )
    assert resp.status_code == 400
    assert "JSON" in resp.get_json()["error"]


def _post_concurrently(app, docs: list[dict[str, Any]], token: str) -> list[int]:
    import threading

    barrier = threading.Barrier(len(docs))
    statuses: list[int] = []

    def send(doc: dict[str, Any]) -> None:
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post("/notify", json=doc, headers={"Authorization": f"Bearer {token}"}).status_code)

    threads = [threading.Thread(target=send, args=(doc,)) for doc in docs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_simultaneous_copies_of_a_notification_post_once(harness, load) -> None:
    doc = _with(load(DATA_ACTED), incident__severity="warning")
    statuses = _post_concurrently(harness.app, [doc] * 8, harness.issuer.token())
    assert statuses == [200] * 8
    assert len(harness.chat.server.to("/api/chat.postMessage")) == 1


def test_simultaneous_notifications_of_one_incident_share_one_thread(harness, load) -> None:
    import time

    from chatops_service.app import create_app
    from chatops_service.state import MemoryState

    app = create_app(harness.settings, state=MemoryState(), sleep=time.sleep)  # real waiting here
    opened = _with(load(DATA_ACTED), incident__severity="warning")
    docs = [_with(opened, notification_id=f"n-{i}", decision__step=i) for i in range(4)]
    assert _post_concurrently(app, docs, harness.issuer.token()) == [200] * 4
    posts = harness.chat.posts("chat.postMessage")
    parents = [p for p in posts if "thread_ts" not in p]
    assert len(parents) == 1 and len(posts) == 4
    thread_ts = {p["thread_ts"] for p in posts if "thread_ts" in p}
    updated_ts = {u["ts"] for u in harness.chat.posts("chat.update")}
    assert len(thread_ts) == 1 and thread_ts == updated_ts  # every reply and update is on the one parent


def test_permanent_errors_are_not_retried_and_surface_as_5xx(harness, load) -> None:
    harness.chat.script("/services/", (404, {"Content-Type": "text/plain"}, b"no_service"))
    resp = harness.notify(load("notification_dry_run_crash_loop.json"))
    assert resp.status_code == 502
    [delivery] = resp.get_json()["deliveries"]
    assert delivery["attempts"] == 1 and "404" in delivery["error"] and "no_service" in delivery["error"]
    assert harness.sleeps == []

    harness.chat.script(
        "/api/chat.postMessage",
        (200, {"Content-Type": "application/json"}, b'{"ok":false,"error":"channel_not_found"}'),
    )
    resp = harness.notify(_with(load(DATA_ACTED), incident__severity="warning"))
    assert resp.status_code == 502
    [delivery] = resp.get_json()["deliveries"]
    assert delivery["attempts"] == 1 and "channel_not_found" in delivery["error"]
