"""Slack signatures, button clicks and /selfheal, against the loopback Slack and healer stand-ins."""

from __future__ import annotations

import copy
import json
import time
from typing import Any
from urllib.parse import urlencode

import pytest

DATA_ACTED = "notification_acted_high_cpu.json"


@pytest.fixture
def block_actions() -> dict[str, Any]:
    from pathlib import Path

    return json.loads(
        (Path(__file__).resolve().parents[1] / "data" / "chatops" / "slack_block_actions.json").read_text()
    )


@pytest.fixture
def slash_form() -> str:
    from pathlib import Path

    return (Path(__file__).resolve().parents[1] / "data" / "chatops" / "slack_slash_command.txt").read_text().strip()


def _button_value(harness, action: str, path: str = "/api/chat.postMessage") -> str:
    """The value of the button as Slack received it in the posted message."""
    message = harness.chat.server.to(path)[0].json()
    for block in message["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == f"selfheal_{action}":
                return element["value"]
    raise AssertionError(f"no {action} button in the posted message")


def _click(
    harness, payload_template, *, action: str, value: str, user: str = "U0SRE0001", action_ts: str = "1763900401.1"
):
    payload = copy.deepcopy(payload_template)
    payload["user"]["id"] = user
    payload["response_url"] = f"{harness.chat.url}/actions/T0ACME/1234/abcdef"
    payload["actions"][0].update(action_id=f"selfheal_{action}", value=value, action_ts=action_ts)
    return urlencode({"payload": json.dumps(payload)}).encode()


def _post(harness, path: str, body: bytes, headers: dict[str, str]):
    return harness.client.post(path, data=body, headers=headers)


# ---------------------------------------------------------------- signatures


def test_valid_signature_is_accepted(harness, block_actions, sign, load) -> None:
    harness.notify(load(DATA_ACTED))
    body = _click(harness, block_actions, action="acknowledge", value=_button_value(harness, "acknowledge"))
    assert _post(harness, "/slack/interactions", body, sign(body)).status_code == 200
    assert len(harness.healer.commands) == 1


@pytest.mark.parametrize(
    ("case", "headers_for"),
    [
        ("wrong secret", lambda sign, body: sign(body, secret="not-the-signing-secret")),
        ("stale timestamp", lambda sign, body: sign(body, timestamp=int(time.time()) - 301)),
        ("future timestamp", lambda sign, body: sign(body, timestamp=int(time.time()) + 400)),
        ("missing headers", lambda sign, body: {"Content-Type": "application/x-www-form-urlencoded"}),
        ("missing signature", lambda sign, body: {k: v for k, v in sign(body).items() if k != "X-Slack-Signature"}),
        ("non-numeric timestamp", lambda sign, body: {**sign(body), "X-Slack-Request-Timestamp": "soon"}),
    ],
)
@pytest.mark.parametrize("path", ["/slack/interactions", "/slack/commands"])
def test_bad_signatures_get_401_and_do_nothing(
    harness, block_actions, slash_form, sign, load, case, headers_for, path
) -> None:
    harness.notify(load(DATA_ACTED))
    requests_before = len(harness.chat.requests)
    if path == "/slack/interactions":
        body = _click(harness, block_actions, action="silence", value=_button_value(harness, "silence"))
    else:
        body = slash_form.replace("RESPONSE_URL", "").encode()
    resp = _post(harness, path, body, headers_for(sign, body))
    assert resp.status_code == 401, case
    assert harness.healer.commands == []
    assert len(harness.chat.requests) == requests_before


def test_tampered_body_is_refused(harness, block_actions, sign, load) -> None:
    harness.notify(load(DATA_ACTED))
    body = _click(harness, block_actions, action="silence", value=_button_value(harness, "silence"))
    headers = sign(body)
    tampered = body.replace(b"U0SRE0001", b"U0EVIL0001")
    assert _post(harness, "/slack/interactions", tampered, headers).status_code == 401
    assert harness.healer.commands == []


def test_replayed_request_is_refused(harness, block_actions, sign, load) -> None:
    harness.notify(load(DATA_ACTED))
    body = _click(harness, block_actions, action="silence", value=_button_value(harness, "silence"))
    headers = sign(body)
    assert _post(harness, "/slack/interactions", body, headers).status_code == 200
    replay = _post(harness, "/slack/interactions", body, headers)
    assert replay.status_code == 401
    assert "replayed" in replay.get_json()["error"]
    assert len(harness.healer.commands) == 1


# ---------------------------------------------------------------- clicks


def test_silence_click_calls_the_healer_once_and_is_announced_in_the_thread(harness, block_actions, sign, load) -> None:
    harness.notify(load(DATA_ACTED))
    parent_ts = harness.state.get_thread("0.nq8x2k5v1abc", "oncall-slack").ts
    block_actions["container"]["message_ts"] = parent_ts
    body = _click(harness, block_actions, action="silence", value=_button_value(harness, "silence"))
    assert harness.healer.would_act_on("shop", "checkout") is True

    assert _post(harness, "/slack/interactions", body, sign(body)).status_code == 200

    assert len(harness.healer.commands) == 1
    command = harness.healer.commands[0]
    assert command["command"] == "silence"
    assert command["duration_seconds"] == 3600
    assert command["actor"] == {"id": "U0SRE0001", "display": "alice", "source": "slack"}
    assert command["target"]["namespace"] == "shop" and command["target"]["name"] == "checkout"
    assert command["target"]["cluster"] == "prod-gke"
    assert command["incident_id"] == "0.nq8x2k5v1abc"
    assert harness.healer.server.requests[0].headers["Authorization"] == "Bearer healer-id-token-for-tests"
    assert harness.healer.is_silenced("shop", "checkout", "prod-gke")

    announcement = harness.chat.posts("chat.postMessage")[-1]
    assert announcement["thread_ts"] == parent_ts
    assert "blocks" not in announcement  # a plain text reply: Slack refuses an empty blocks list
    assert "<@U0SRE0001> silenced prod-gke/shop/checkout for 1h" in announcement["text"]


def test_slack_retry_of_the_same_click_does_not_call_the_healer_twice(harness, block_actions, sign, load) -> None:
    harness.notify(load(DATA_ACTED))
    body = _click(harness, block_actions, action="silence", value=_button_value(harness, "silence"))
    assert _post(harness, "/slack/interactions", body, sign(body)).status_code == 200
    retry_headers = {**sign(body, timestamp=int(time.time()) - 2), "X-Slack-Retry-Num": "1"}
    assert _post(harness, "/slack/interactions", body, retry_headers).status_code == 200
    assert len(harness.healer.commands) == 1

    second_click = _click(
        harness, block_actions, action="silence", value=_button_value(harness, "silence"), action_ts="1763900999.2"
    )
    assert _post(harness, "/slack/interactions", second_click, sign(second_click)).status_code == 200
    assert len(harness.healer.commands) == 2  # a new click is a new request


def test_refused_click_is_answered_visibly_and_does_nothing(harness, block_actions, sign, load) -> None:
    harness.notify(load(DATA_ACTED))
    body = _click(harness, block_actions, action="undo", value=_button_value(harness, "undo"), user="U0INTERN01")
    assert _post(harness, "/slack/interactions", body, sign(body)).status_code == 200
    assert harness.healer.commands == []
    answers = harness.chat.server.to("/actions/")
    assert len(answers) == 1
    answer = answers[0].json()
    assert answer["response_type"] == "ephemeral"
    assert "not allowed to undo" in answer["text"] and "<@U0INTERN01>" in answer["text"]


def test_user_group_member_may_act(harness, block_actions, sign, load) -> None:
    harness.chat.usergroups["S0ONCALL"] = ["U0GROUPIE1"]
    harness.notify(load(DATA_ACTED))
    body = _click(
        harness, block_actions, action="acknowledge", value=_button_value(harness, "acknowledge"), user="U0GROUPIE1"
    )
    assert _post(harness, "/slack/interactions", body, sign(body)).status_code == 200
    assert [c["command"] for c in harness.healer.commands] == ["acknowledge"]
    lookup = harness.chat.server.to("/api/usergroups.users.list")
    assert len(lookup) == 1 and lookup[0].headers["Authorization"] == "Bearer xoxb-test-oncall"
    assert harness.state.acknowledged_by("0.nq8x2k5v1abc") == "alice"


def test_acknowledge_stops_repeat_notifications(harness, block_actions, sign, load) -> None:
    doc = load(DATA_ACTED)
    harness.notify(doc)
    body = _click(harness, block_actions, action="acknowledge", value=_button_value(harness, "acknowledge"))
    _post(harness, "/slack/interactions", body, sign(body))
    repeat = copy.deepcopy(doc)
    repeat["notification_id"] = "n-repeat-refused"
    repeat["decision"].update(outcome="refused", reason="cooldown", detail="Restarted 4 minutes ago; cooldown 15m.")
    head = harness.chat.posts("chat.update")[-1]  # the first message now shows the acknowledgement
    assert head["ts"] == harness.state.get_thread("0.nq8x2k5v1abc", "oncall-slack").ts
    assert "acknowledged by alice" in json.dumps(head["blocks"])
    assert "selfheal_acknowledge" not in json.dumps(head["blocks"]) and "selfheal_silence" in json.dumps(head["blocks"])
    deliveries = harness.notify(repeat).get_json()["deliveries"]
    assert {d["outcome"] for d in deliveries} == {"suppressed_acknowledged"}


def test_webhook_destination_click_is_answered_through_response_url(harness, block_actions, sign, load) -> None:
    harness.notify(load("notification_dry_run_crash_loop.json"))
    value = _button_value(harness, "silence", path="/services/")
    body = _click(harness, block_actions, action="silence", value=value, user="U0PAY0001")
    assert _post(harness, "/slack/interactions", body, sign(body)).status_code == 200
    assert [c["target"]["name"] for c in harness.healer.commands] == ["ledger"]
    answer = harness.chat.server.to("/actions/")[0].json()
    assert answer["response_type"] == "in_channel" and answer["replace_original"] is False
    assert "silenced prod-gke/payments/ledger for 1h" in answer["text"]


def test_healer_refusal_is_shown(harness, block_actions, sign, load) -> None:
    doc = load("notification_held_for_approval_anomaly.json")
    doc["incident"]["incident_id"] = "0.unknown"  # the stand-in answers 409 for this one
    doc["incident"]["severity"] = "critical"
    harness.notify(doc)
    body = _click(harness, block_actions, action="approve", value=_button_value(harness, "approve"))
    _post(harness, "/slack/interactions", body, sign(body))
    assert len(harness.healer.commands) == 1
    reply = harness.chat.posts("chat.postMessage")[-1]
    assert "not done (approve), the healer says: no action is held" in reply["text"]


def test_unreachable_healer_is_reported_and_the_click_can_be_retried(harness, block_actions, sign, load) -> None:
    harness.notify(load(DATA_ACTED))
    harness.healer.fail_with = 503
    body = _click(harness, block_actions, action="silence", value=_button_value(harness, "silence"))
    _post(harness, "/slack/interactions", body, sign(body))
    assert "Could not do it" in harness.chat.posts("chat.postMessage")[-1]["text"]
    harness.healer.fail_with = 0
    retry_headers = {**sign(body, timestamp=int(time.time()) - 1), "X-Slack-Retry-Num": "1"}
    _post(harness, "/slack/interactions", body, retry_headers)
    assert harness.healer.is_silenced("shop", "checkout", "prod-gke")


def test_malformed_interaction_is_400(harness, sign) -> None:
    body = b"payload=%7Bnot-json"
    assert _post(harness, "/slack/interactions", body, sign(body)).status_code == 400
    body = urlencode({"payload": json.dumps({"type": "view_submission"})}).encode()
    resp = _post(harness, "/slack/interactions", body, sign(body))
    assert resp.status_code == 400 and "block_actions" in resp.get_json()["error"]


# ---------------------------------------------------------------- /selfheal


def _command(harness, slash_form: str, text: str, *, user: str = "U0SRE0001", channel: str = "C0ALERTS") -> bytes:
    form = dict(pair.split("=", 1) for pair in slash_form.split("&"))
    form.update(text=text.replace(" ", "+").replace("/", "%2F"), user_id=user, channel_id=channel)
    form["response_url"] = f"{harness.chat.url}/actions/commands/1"
    form["trigger_id"] = f"trigger-{time.monotonic_ns()}"
    return "&".join(f"{k}={v}" for k, v in form.items()).encode()


def test_pause_command_calls_the_healer_and_answers_in_channel(harness, slash_form, sign) -> None:
    body = _command(harness, slash_form, "pause shop/checkout 2h")
    resp = _post(harness, "/slack/commands", body, sign(body))
    assert resp.status_code == 200
    answer = resp.get_json()
    assert answer["response_type"] == "in_channel"
    assert "<@U0SRE0001> paused healing of shop/checkout for 2h" in answer["text"]
    assert len(harness.healer.commands) == 1
    command = harness.healer.commands[0]
    assert (command["command"], command["duration_seconds"]) == ("pause", 7200)
    assert command["target"] == {
        "namespace": "shop",
        "name": "checkout",
        "cluster": "",
        "project_id": "",
        "location": "",
    }
    assert harness.healer.is_silenced("shop", "checkout")

    body = _command(harness, slash_form, "resume shop/checkout")
    assert "resumed healing of shop/checkout" in _post(harness, "/slack/commands", body, sign(body)).get_json()["text"]
    assert not harness.healer.is_silenced("shop", "checkout")


def test_ssl_check_is_answered_without_doing_anything(harness) -> None:
    resp = _post(harness, "/slack/commands", b"ssl_check=1&token=deprecated", {})
    assert resp.status_code == 200
    assert harness.healer.commands == [] and harness.chat.requests == []
    sneaky = b"ssl_check=1&command=%2Fselfheal&text=pause+shop%2Fcheckout+1h&user_id=U0SRE0001&channel_id=C0ALERTS"
    assert _post(harness, "/slack/commands", sneaky, {}).status_code == 401


def test_status_and_history_commands(harness, slash_form, sign) -> None:
    body = _command(harness, slash_form, "pause shop/checkout 2h")
    _post(harness, "/slack/commands", body, sign(body))
    body = _command(harness, slash_form, "status")
    status = _post(harness, "/slack/commands", body, sign(body)).get_json()
    assert status["response_type"] == "ephemeral"
    assert "dry-run mode is *on*" in status["text"]
    assert status["text"].count("`shop/checkout` until") == 1  # paused and silenced lists are merged
    assert "by alice (slack)" in status["text"]
    body = _command(harness, slash_form, "history shop/checkout 5")
    history = _post(harness, "/slack/commands", body, sign(body)).get_json()
    assert "Healer history for `shop/checkout`" in history["text"]
    assert "2025-11-23 12:18 UTC acted restart (policy:high-cpu) on prod-gke/shop/checkout" in history["text"]
    request = harness.healer.server.to("/control/v1/history")[0]
    assert request.query == {"namespace": ["shop"], "name": ["checkout"], "limit": ["5"]}
    assert [c["command"] for c in harness.healer.commands] == ["pause"]  # status and history change nothing


@pytest.mark.parametrize(
    ("text", "user", "channel", "expected"),
    [
        ("pause shop/checkout", "U0SRE0001", "C0ALERTS", "needs <namespace>/<deployment> and a duration"),
        ("pause shop/checkout 9d", "U0SRE0001", "C0ALERTS", "at most 7 days"),
        ("reboot everything", "U0SRE0001", "C0ALERTS", "unknown subcommand"),
        ("pause shop/checkout 1h", "U0INTERN01", "C0ALERTS", "not allowed"),
        ("pause shop/checkout 1h", "U0SRE0001", "C0RANDOM", "not a ChatOps destination"),
        ("", "U0SRE0001", "C0ALERTS", "Usage"),
    ],
)
def test_command_errors_are_explained_to_the_user_only(harness, slash_form, sign, text, user, channel, expected):
    body = _command(harness, slash_form, text, user=user, channel=channel)
    answer = _post(harness, "/slack/commands", body, sign(body)).get_json()
    assert answer["response_type"] == "ephemeral"
    assert expected in answer["text"]
    assert harness.healer.commands == []
