"""Adaptive Cards for a Teams Workflows webhook ("When a Teams webhook request is received").

Pure. Office 365 connectors (MessageCard) are retired; Workflows accept Adaptive
Cards inside the ``{"type": "message", "attachments": [...]}`` envelope and fail
above about 28 KB, so :func:`build_card_payload` measures the encoded JSON and
sheds optional content until it fits. Buttons are ``Action.OpenUrl`` links to
signed, single-use URLs on the ChatOps service, because a Workflows-posted card
cannot call back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chatops_service.chat_actions import BUTTON_LABELS
from chatops_service.wording import MessageContent, truncate

MAX_PAYLOAD_BYTES = 27 * 1024  # Workflows fail at about 28 KB; keep headroom for the envelope the flow adds
CARD_VERSION = "1.4"
_SEVERITY_COLOR = {"critical": "Attention", "error": "Attention", "warning": "Warning", "info": "Accent"}
_OUTCOME_COLOR = {"verified": "Good", "closed": "Good"}


class CardTooLargeError(ValueError):
    """Even the smallest form of the card exceeds the Workflows size limit."""


@dataclass(frozen=True)
class CardLink:
    action: str  # acknowledge | silence | approve | undo
    url: str


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _card(content: MessageContent, links: Sequence[CardLink], *, level: int) -> dict[str, Any]:
    # level 0: everything; 1: no runbook text; 2: long texts cut to 1000; 3: cut to 300, no small print
    limit = {0: 4000, 1: 4000, 2: 1000, 3: 300}[level]
    color = _OUTCOME_COLOR.get(content.outcome) or _SEVERITY_COLOR.get(content.severity, "Default")
    body: list[dict[str, Any]] = [
        _text(truncate(content.headline, 400), size="Large", weight="Bolder", color=color),
        _text(f"**State:** {content.state_label}", spacing="Small"),
    ]
    if content.dry_run:
        body.append(_text("**DRY RUN — the healer made no change.**", color="Warning"))
    if content.target_facts:
        body.append(
            {
                "type": "FactSet",
                "facts": [{"title": k, "value": truncate(v, 300)} for k, v in content.target_facts],
            }
        )
    body += [
        _text("**What was observed**", spacing="Medium"),
        _text(truncate(content.observed, limit)),
        _text("**What the healer decided**", spacing="Medium"),
        _text(truncate(content.decision, limit)),
        _text(f"**Why:** {truncate(content.reason, limit)}"),
        *(
            [_text(f"Details: {truncate(content.parameters, 500)}", size="Small", isSubtle=True)]
            if content.parameters and level < 2
            else []
        ),
        _text("**What to do next**", spacing="Medium"),
        _text(truncate(content.next_step.replace("*", "**"), limit)),
    ]
    if content.documentation and level == 0:
        body += [_text("**Runbook**", spacing="Medium"), _text(truncate(content.documentation, limit))]
    if level < 3:
        body.append(_text(truncate(content.context, 500), size="Small", isSubtle=True, spacing="Medium"))
    actions: list[dict[str, Any]] = [
        {"type": "Action.OpenUrl", "title": f"Open {label.lower()}", "url": url} for label, url in content.links
    ]
    actions += [{"type": "Action.OpenUrl", "title": BUTTON_LABELS[link.action], "url": link.url} for link in links]
    return {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "msteams": {"width": "Full"},
        "body": body,
        "actions": actions,
    }


def envelope(card: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def payload_bytes(payload: dict[str, Any]) -> int:
    return len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def build_card_payload(
    content: MessageContent, links: Sequence[CardLink], *, max_bytes: int = MAX_PAYLOAD_BYTES
) -> dict[str, Any]:
    """The Workflows POST body, at the richest level that fits in ``max_bytes``."""
    for level in range(4):
        payload = envelope(_card(content, links, level=level))
        if payload_bytes(payload) <= max_bytes:
            return payload
    raise CardTooLargeError(f"the card is {payload_bytes(payload)} bytes even at its smallest; limit {max_bytes}")
