"""Message content and layout: clear wording, Slack limits, Teams size limit."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, HeaderBlock, SectionBlock

from chatops_service.chat_actions import ActionRef, available_actions
from chatops_service.slack_message import MAX_TOTAL_BLOCK_CHARS, build_message, build_thread_reply, escape
from chatops_service.teams_card import CardLink, CardTooLargeError, build_card_payload, payload_bytes
from chatops_service.wording import describe
from healing_contract.notification import OUTCOMES, parse_notification


def _notification(load, name: str = "notification_acted_high_cpu.json", **decision: object):
    doc = load(name)
    doc["decision"].update(decision)
    return parse_notification(doc)


def _check_slack_limits(blocks: list[Block]) -> None:
    assert len(blocks) <= 50
    for block in blocks:
        block.validate_json()
        if isinstance(block, HeaderBlock):
            assert len(block.text.text) <= 150
        if isinstance(block, SectionBlock):
            assert block.text is None or len(block.text.text) <= 3000
            assert block.fields is None or (len(block.fields) <= 10 and all(len(f.text) <= 2000 for f in block.fields))
        if isinstance(block, ActionsBlock):
            for element in block.elements:
                assert isinstance(element, ButtonElement)
                assert len(element.text.text) <= 75 and len(element.value) <= 2000


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_every_outcome_reads_clearly(load, outcome: str) -> None:
    n = _notification(load, outcome=outcome)
    content = describe(n)
    assert content.headline.startswith("[CRITICAL] ")
    assert "checkout" in content.headline
    assert content.next_step  # always says what to do next
    message = build_message(
        content,
        ActionRef.from_notification(n, "d"),
        available_actions(n, ("acknowledge", "silence", "approve", "undo")),
    )
    _check_slack_limits(list(message.blocks))
    assert message.text
    reply = build_thread_reply(content)
    _check_slack_limits(list(reply.blocks))


def test_observed_values_and_anomaly_scores_are_spelled_out(load) -> None:
    cpu = describe(_notification(load))
    assert cpu.observed.startswith("kubernetes.io/container/cpu/limit_utilization: observed 97% vs threshold 90%")
    anomaly = describe(_notification(load, "notification_held_for_approval_anomaly.json"))
    assert anomaly.observed.startswith("Anomaly score 0.93 (model iforest-2026-11-20), alert threshold 0.8")
    assert (
        anomaly.headline
        == "[WARNING] Approval needed: healer wants to roll back Deployment cart to its previous revision in prod-gke/shop/cart"
    )
    assert "Approve" in anomaly.next_step


def test_buttons_follow_the_decision(load) -> None:
    allowed = ("acknowledge", "silence", "approve", "undo")
    assert available_actions(_notification(load, outcome="held_for_approval"), allowed) == [
        "acknowledge",
        "approve",
        "silence",
    ]
    assert available_actions(_notification(load, outcome="dry_run", dry_run=True), allowed) == [
        "acknowledge",
        "silence",
    ]
    closed_doc = load("notification_acted_high_cpu.json")
    closed_doc["incident"]["state"] = "closed"
    closed_doc["decision"]["outcome"] = "closed"
    assert available_actions(parse_notification(closed_doc), allowed) == []
    assert available_actions(_notification(load), ("silence",)) == ["silence"]


def test_mrkdwn_control_characters_are_escaped(load) -> None:
    doc = load("notification_acted_high_cpu.json")
    doc["decision"]["detail"] = "<!channel> look & see <https://evil.example|here>"
    n = parse_notification(doc)
    message = build_message(describe(n), ActionRef.from_notification(n, "d"), [])
    rendered = json.dumps(message.block_dicts())
    assert "<!channel>" not in rendered
    assert "<!channel>" not in message.text  # the notification text pings too
    assert escape("<!channel> & >") == "&lt;!channel&gt; &amp; &gt;"


_long_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=12000)


# Target names come from Kubernetes: DNS labels/subdomains of at most 253 characters.
_k8s_name = st.from_regex(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?", fullmatch=True)


@settings(max_examples=25, deadline=None)
@given(
    detail=_long_text,
    summary=_long_text,
    documentation=_long_text,
    reason=st.text(max_size=300),
    name=_k8s_name,
)
def test_any_content_fits_slack_and_teams_limits(
    detail: str, summary: str, documentation: str, reason: str, name: str
) -> None:
    doc = {
        "schema_version": "1",
        "notification_id": "n1",
        "incident": {
            "incident_id": "0.x" * 50,
            "state": "open",
            "severity": "critical",
            "summary": summary,
            "documentation": documentation,
        },
        "target": {"cluster": name, "namespace": name, "kind": "Deployment", "name": name, "pod": name, "labels": {}},
        "decision": {"outcome": "held_for_approval", "action": "rollback", "detail": detail, "reason": reason},
        "links": {"incident": "https://console.cloud.google.com/" + "x" * 2000, "logs": "https://l.example/" + name},
    }
    n = parse_notification(doc)
    content = describe(n)
    ref = ActionRef.from_notification(n, "oncall-slack")
    message = build_message(
        content, ref, ["acknowledge", "approve", "silence", "undo"], timeline=["12:00 " + name] * 30
    )
    _check_slack_limits(list(message.blocks))
    assert len(json.dumps(message.block_dicts(), ensure_ascii=False)) <= MAX_TOTAL_BLOCK_CHARS
    assert len(message.text) <= 3000
    links = [CardLink(a, "https://chatops.example.com/teams/actions/" + "t" * 400) for a in ("acknowledge", "approve")]
    payload = build_card_payload(content, links)
    assert payload_bytes(payload) <= 27 * 1024


def test_teams_card_sheds_optional_content_to_fit(load) -> None:
    doc = load("notification_acted_high_cpu.json")
    doc["incident"]["documentation"] = "手順書の行\n" * 1500  # 3 bytes per character in UTF-8
    doc["decision"]["detail"] = "理由 " * 3000
    doc["incident"]["summary"] = "概要 " * 3000
    content = describe(parse_notification(doc))
    payload = build_card_payload(content, [])
    card = payload["attachments"][0]["content"]
    text = json.dumps(card, ensure_ascii=False)
    assert payload_bytes(payload) <= 27 * 1024
    assert "**Runbook**" not in text  # dropped first
    assert "理由" in text  # the reason is cut, not dropped
    assert card["body"][0]["text"].startswith("[CRITICAL]")
    with pytest.raises(CardTooLargeError):
        build_card_payload(content, [], max_bytes=500)


# Adaptive Card 1.4 property values used by the card (from the schema's enumerations).
_CARD_ENUMS = {
    "color": {"Default", "Dark", "Light", "Accent", "Good", "Warning", "Attention"},
    "size": {"Default", "Small", "Medium", "Large", "ExtraLarge"},
    "weight": {"Default", "Lighter", "Bolder"},
    "spacing": {"None", "Small", "Default", "Medium", "Large", "ExtraLarge", "Padding"},
}
_CARD_KEYS = {
    "TextBlock": {"type", "text", "wrap", "color", "size", "weight", "spacing", "isSubtle"},
    "FactSet": {"type", "facts"},
}


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_teams_card_uses_only_known_adaptive_card_elements(load, outcome: str) -> None:
    n = _notification(load, outcome=outcome)
    links = [CardLink(a, f"https://chatops.example.com/teams/actions/{a}") for a in ("acknowledge", "undo")]
    card = build_card_payload(describe(n), links)["attachments"][0]["content"]
    assert set(card) == {"$schema", "type", "version", "msteams", "body", "actions"}
    for element in card["body"]:
        assert set(element) <= _CARD_KEYS[element["type"]]
        for key, allowed in _CARD_ENUMS.items():
            if key in element:
                assert element[key] in allowed
        if element["type"] == "TextBlock":
            assert element["text"] and element["wrap"] is True
        else:
            assert all(set(f) == {"title", "value"} and f["value"] for f in element["facts"])
    assert all(set(a) == {"type", "title", "url"} and a["url"].startswith("https://") for a in card["actions"])


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        ("silenced", "/selfheal resume shop/checkout"),
        ("cooldown", "cooldown"),
        ("budget_deployment_hour", "action budget"),
        ("protected_namespace", "never acts on this target"),
        ("maintenance_window", "maintenance window"),
        ("something_new", "will not act on this"),
    ],
)
def test_refusals_say_what_lifts_them(load, reason: str, expected: str) -> None:
    content = describe(_notification(load, outcome="refused", reason=reason, detail="d"))
    assert expected in content.next_step
    assert content.headline == f"[CRITICAL] Healer did not act on prod-gke/shop/checkout ({reason.replace('_', ' ')})"


def test_action_parameters_are_small_print_not_part_of_the_sentence(load) -> None:
    n = _notification(load, parameters={"to": 3, "from": 2}, action="scale_out")
    content = describe(n)
    assert content.decision == "The healer scaled out Deployment checkout."
    assert content.parameters == "from=2, to=3"
    message = build_message(content, ActionRef.from_notification(n, "d"), [])
    assert "_Details: from=2, to=3_" in json.dumps(message.block_dicts())
    assert "from=2" not in message.text


def test_slack_destinations_where_nobody_may_act_get_no_buttons(load) -> None:
    from chatops_service.routing import Destination
    from chatops_service.slack_threads import thread_head

    n = _notification(load)
    content = describe(n)
    nobody = Destination(name="d", kind="slack_webhook", secret_env="X")
    someone = Destination(name="d", kind="slack_webhook", secret_env="X", allowed_users=("U1",))
    assert "selfheal_" not in json.dumps(thread_head(n, nobody, content, (), "").block_dicts())
    assert "selfheal_silence" in json.dumps(thread_head(n, someone, content, (), "").block_dicts())
