"""Signed Teams links: taken from the card actually posted, used once, then refused; expiry; tampering."""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

from chatops_service.chat_actions import ActionRef
from chatops_service.signed_links import link_url, sign_link_token

DATA_ACTED = "notification_acted_high_cpu.json"
LINK_KEY = "test-link-signing-key-0123456789"


def _card_link(harness, label: str) -> str:
    card = harness.chat.server.to("/workflows/")[0].json()["attachments"][0]["content"]
    url = next(a["url"] for a in card["actions"] if a["title"] == label)
    assert url.startswith("https://chatops.example.com/teams/actions/")
    return urlsplit(url).path


def test_link_works_once_then_is_refused(harness, load) -> None:
    harness.notify(load(DATA_ACTED))
    path = _card_link(harness, "Silence target 1h")

    confirm = harness.client.get(path)
    assert confirm.status_code == 200
    assert b"<form method=post>" in confirm.data and b"0.nq8x2k5v1abc" in confirm.data
    assert confirm.headers["Cache-Control"] == "no-store"
    assert harness.healer.commands == []  # opening (or prefetching) the link does nothing

    done = harness.client.post(path, data={"name": "Bob  from   Ops"})
    assert done.status_code == 200, done.data
    assert b"Bob from Ops silenced prod-gke/shop/checkout for 1h" in done.data
    assert len(harness.healer.commands) == 1
    command = harness.healer.commands[0]
    assert command["command"] == "silence"
    assert command["actor"] == {"id": "teams:ops-teams", "display": "Bob from Ops", "source": "teams"}
    assert harness.healer.is_silenced("shop", "checkout", "prod-gke")

    again = harness.client.post(path, data={"name": "Bob"})
    assert again.status_code == 410
    assert b"already used" in again.data
    assert harness.client.get(path).status_code == 410
    assert len(harness.healer.commands) == 1


def test_each_action_has_its_own_single_use_link(harness, load) -> None:
    harness.notify(load(DATA_ACTED))
    ack, undo = _card_link(harness, "Acknowledge"), _card_link(harness, "Undo")
    assert harness.client.post(ack).status_code == 200
    assert harness.client.post(undo).status_code == 200
    assert [c["command"] for c in harness.healer.commands] == ["acknowledge", "undo"]
    assert harness.state.acknowledged_by("0.nq8x2k5v1abc") == "someone in Teams"
    # the same incident's Slack thread shows the acknowledgement too
    head = harness.chat.posts("chat.update")[-1]
    assert head["ts"] == harness.state.get_thread("0.nq8x2k5v1abc", "oncall-slack").ts
    assert "acknowledged by someone in Teams" in json.dumps(head["blocks"])


def test_expired_link_is_refused(harness) -> None:
    ref = ActionRef(incident_id="0.nq8x2k5v1abc", destination="ops-teams", namespace="shop", name="checkout")
    token = sign_link_token(LINK_KEY, "silence", ref, now=time.time() - 7200, ttl_seconds=3600)
    path = urlsplit(link_url("https://chatops.example.com", token)).path
    assert harness.client.get(path).status_code == 410
    resp = harness.client.post(path)
    assert resp.status_code == 410 and b"expired" in resp.data
    assert harness.healer.commands == []


def test_tampered_or_foreign_links_are_refused(harness, load) -> None:
    harness.notify(load(DATA_ACTED))
    path = _card_link(harness, "Silence target 1h")
    body, mac = path.rsplit("/", 1)[1].split(".")
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    assert harness.client.post(f"/teams/actions/{flipped}.{mac}").status_code == 403
    ref = ActionRef(incident_id="0.x", destination="ops-teams", namespace="shop", name="checkout")
    foreign = sign_link_token("another-key-that-is-long-enough", "undo", ref, now=time.time(), ttl_seconds=600)
    assert harness.client.post(f"/teams/actions/{foreign}").status_code == 403
    assert harness.client.post("/teams/actions/garbage").status_code == 403
    slack_ref = ActionRef(incident_id="0.x", destination="oncall-slack", namespace="shop", name="checkout")
    wrong_dest = sign_link_token(LINK_KEY, "undo", slack_ref, now=time.time(), ttl_seconds=600)
    assert harness.client.post(f"/teams/actions/{wrong_dest}").status_code == 403
    assert harness.healer.commands == []


def test_link_survives_an_unreachable_healer(harness, load) -> None:
    harness.notify(load(DATA_ACTED))
    path = _card_link(harness, "Silence target 1h")
    harness.healer.fail_with = 503
    assert harness.client.post(path).status_code == 502
    harness.healer.fail_with = 0
    assert harness.client.post(path).status_code == 200
    assert harness.client.post(path).status_code == 410
