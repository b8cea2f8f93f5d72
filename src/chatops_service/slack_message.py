"""Slack Block Kit messages, built with ``slack_sdk.models.blocks`` and kept within Slack's limits.

Pure: content in, :class:`SlackMessage` out. Every block is validated by the
slack_sdk model (``validate_json``) before it leaves this module, so a message
that would be rejected with ``invalid_blocks`` fails here, in tests, instead.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from chatops_service.chat_actions import BUTTON_LABELS, SLACK_ACTION_PREFIX, ActionRef
from chatops_service.wording import OUTCOME_EMOJI, SEVERITY_EMOJI, MessageContent, truncate

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_FALLBACK_TEXT = 3000
MAX_BUTTON_VALUE = 2000
MAX_CONTEXT_ELEMENTS = 10
MAX_TOTAL_BLOCK_CHARS = 11_000  # Slack answers msg_blocks_too_long at about 13k characters
ACTIONS_BLOCK_ID = "selfheal_actions"


@dataclass(frozen=True)
class SlackMessage:
    text: str  # notification and screen-reader fallback; always sent
    blocks: tuple[Block, ...]
    dicts: tuple[dict[str, Any], ...]  # the blocks as JSON objects, validated once by slack_sdk's to_dict

    def block_dicts(self) -> list[dict[str, Any]]:
        return list(self.dicts)

    def payload(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.block_dicts()}


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, label: str) -> str:
    safe_url = url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C").replace(" ", "%20")
    return f"<{safe_url}|{escape(label)}>"


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(text, MAX_SECTION_TEXT)))


def _buttons(ref: ActionRef, actions: Sequence[str], target_display: str) -> ActionsBlock | None:
    value = ref.encode()
    if len(value) > MAX_BUTTON_VALUE:  # very long names: keep what the healer needs to find the target
        value = ActionRef(ref.incident_id[:500], ref.destination[:200], ref.namespace[:253], ref.name[:253]).encode()
    elements: list[ButtonElement] = []
    for action in actions:
        confirm = None
        style = None
        if action == "undo":
            style = "danger"
            confirm = ConfirmObject(
                title="Undo the healer's change?",
                text=truncate(f"Roll back the healer's last change to {target_display}.", 300),
                confirm="Undo",
                deny="Cancel",
            )
        elif action == "approve":
            style = "primary"
            confirm = ConfirmObject(
                title="Approve this action?",
                text=truncate(f"The healer will act on {target_display} now.", 300),
                confirm="Approve",
                deny="Cancel",
            )
        elif action == "silence":
            confirm = ConfirmObject(
                title="Silence for 1 hour?",
                text=truncate(f"The healer will not act on {target_display} for 1 hour.", 300),
                confirm="Silence",
                deny="Cancel",
            )
        elements.append(
            ButtonElement(
                text=BUTTON_LABELS[action],
                action_id=f"{SLACK_ACTION_PREFIX}{action}",
                value=value,
                style=style,
                confirm=confirm,
            )
        )
    if not elements:
        return None
    return ActionsBlock(block_id=ACTIONS_BLOCK_ID, elements=elements)


def _links_line(content: MessageContent, max_url: int = 3000) -> str:
    links = [(label, url) for label, url in content.links if len(url) <= max_url]
    if not links:
        return ""
    return "*Links:* " + " · ".join(link(url, label) for label, url in links)


def build_message(
    content: MessageContent,
    ref: ActionRef,
    actions: Sequence[str],
    *,
    timeline: Sequence[str] = (),
    acknowledged_by: str = "",
) -> SlackMessage:
    """The full message: posted first, and re-rendered in place as the incident moves on.

    Slack also rejects messages whose blocks are too long in total (``msg_blocks_too_long``,
    reported at about 13k characters), so long content is shed step by step until the
    blocks fit in :data:`MAX_TOTAL_BLOCK_CHARS`.
    """
    for level in range(3):
        message = _finish(
            fallback_text(content), _full_blocks(content, ref, actions, timeline, acknowledged_by, level=level)
        )
        if message_chars(message) <= MAX_TOTAL_BLOCK_CHARS:
            break
    return message


def message_chars(message: SlackMessage) -> int:
    """Size of the blocks as Slack counts it, approximately: characters of their JSON."""
    return len(json.dumps(message.dicts, ensure_ascii=False))


def _full_blocks(
    content: MessageContent,
    ref: ActionRef,
    actions: Sequence[str],
    timeline: Sequence[str],
    acknowledged_by: str,
    *,
    level: int,
) -> list[Block]:
    # level 0: everything; 1: no runbook, long texts cut to 1000; 2: cut to 300, short timeline
    limit = (MAX_SECTION_TEXT, 1000, 300)[level]
    emoji = SEVERITY_EMOJI.get(content.severity, ":white_circle:")
    state = f"{OUTCOME_EMOJI.get(content.outcome, '')} *State:* {escape(content.state_label)}".strip()
    if acknowledged_by:
        state += f"  ·  acknowledged by {escape(truncate(acknowledged_by, 80))}"
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=truncate(f"{emoji} {content.headline}", MAX_HEADER_TEXT), emoji=True)),
        _section(state),
    ]
    if content.dry_run:
        blocks.append(_section(":test_tube: *DRY RUN — the healer made no change.*"))
    if content.target_facts:
        fields = [
            MarkdownTextObject(
                text=truncate(f"*{escape(k)}*\n{escape(truncate(v, (300, 300, 80)[level]))}", MAX_FIELD_TEXT)
            )
            for k, v in content.target_facts[:MAX_FIELDS]
        ]
        blocks.append(SectionBlock(fields=fields))
    blocks.append(_section(f"*What was observed*\n{escape(truncate(content.observed, limit))}"))
    decision = escape(truncate(content.decision, limit))
    reason = escape(truncate(content.reason, limit))
    decided = f"*What the healer decided*\n{decision}\n*Why:* {reason}"
    if content.parameters and level < 2:
        decided += f"\n_Details: {escape(truncate(content.parameters, 500))}_"
    blocks.append(_section(decided))
    blocks.append(_section(f"*What to do next*\n{content.next_step}"))
    links_line = _links_line(content, max_url=(3000, 1000, 300)[level])
    if links_line:
        blocks.append(_section(links_line))
    if content.documentation and level == 0:
        blocks.append(_section(f"*Runbook*\n{escape(truncate(content.documentation, 1500))}"))
    context_elements = [MarkdownTextObject(text=escape(truncate(content.context, 500)))]
    if timeline:
        steps = timeline[-(8 if level < 2 else 3) :]
        history = " → ".join(escape(truncate(step, 100)) for step in steps)
        context_elements.append(MarkdownTextObject(text=truncate(f"Timeline: {history}", MAX_SECTION_TEXT)))
    blocks.append(ContextBlock(elements=context_elements[:MAX_CONTEXT_ELEMENTS]))
    actions_block = _buttons(ref, actions, truncate(content.target_display, (300, 300, 80)[level]))
    if actions_block is not None:
        blocks.append(DividerBlock())
        blocks.append(actions_block)
    return blocks


def build_thread_reply(content: MessageContent) -> SlackMessage:
    """A shorter update posted in the incident's thread; the buttons stay on the first message."""
    emoji = OUTCOME_EMOJI.get(content.outcome, "")
    blocks: list[Block] = [
        _section(f"{emoji} *{escape(truncate(content.headline, 300))}*".strip()),
        _section(f"{escape(truncate(content.decision, 1000))}\n*Why:* {escape(truncate(content.reason, 1000))}"),
    ]
    if content.dry_run:
        blocks.append(_section(":test_tube: *DRY RUN — the healer made no change.*"))
    blocks.append(_section(f"*Next:* {content.next_step}"))
    links_line = _links_line(content, max_url=1000)
    if links_line:
        blocks.append(_section(links_line))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=escape(truncate(content.context, 500)))]))
    return _finish(fallback_text(content), blocks)


def fallback_text(content: MessageContent) -> str:
    """The notification text; escaped, because Slack reads ``<!channel>`` there too."""
    text = f"{truncate(content.headline, 300)}. {truncate(content.decision, 800)} Why: {truncate(content.reason, 800)}"
    return escape(text)


def _finish(text: str, blocks: list[Block]) -> SlackMessage:
    if len(blocks) > MAX_BLOCKS:  # keep the head and the buttons; the middle is the least important
        blocks = blocks[: MAX_BLOCKS - 2] + blocks[-2:]
    dicts = tuple(block.to_dict() for block in blocks)  # to_dict runs each model's validate_json
    return SlackMessage(text=text, blocks=tuple(blocks), dicts=dicts)
