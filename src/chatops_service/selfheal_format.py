"""Format the healer's ``/control/v1/status`` and ``/control/v1/history`` answers for Slack. Pure.

Tolerant of extra or missing fields: known ones (``target_key``, ``until``, ``actor``,
``decided_at``, ``outcome``, ``action``, ``reason``, ``detail``) are written out in words,
anything else is ignored.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from chatops_service.slack_message import escape
from chatops_service.wording import truncate


def _when(epoch: object) -> str:
    if isinstance(epoch, int | float) and not isinstance(epoch, bool) and epoch > 0:
        return datetime.fromtimestamp(float(epoch), tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    return ""


def _target(item: Mapping[str, Any]) -> str:
    key = str(item.get("target_key") or item.get("key") or item.get("target") or "")
    if not key and item.get("namespace") and item.get("target_name"):
        key = f"{item['namespace']}/{item['target_name']}"
    return key.removeprefix("*/")


def silence_line(item: object, now: float) -> str:
    if not isinstance(item, Mapping):
        return escape(str(item))
    text = f"`{escape(_target(item) or '?')}`"
    until = item.get("until")
    if isinstance(until, int | float) and not isinstance(until, bool):
        minutes = max(0, int((float(until) - now) // 60))
        text += f" until {_when(until)} ({minutes} min left)"
    if item.get("actor"):
        text += f" by {escape(str(item['actor']))}"
    if item.get("reason"):
        text += f" — {escape(truncate(str(item['reason']), 200))}"
    return text


def decision_line(item: object) -> str:
    if not isinstance(item, Mapping):
        return escape(str(item))
    parts = [_when(item.get("decided_at")), str(item.get("outcome") or "?")]
    if item.get("action"):
        parts.append(str(item["action"]))
    if item.get("reason"):
        parts.append(f"({item['reason']})")
    text = " ".join(p for p in parts if p)
    target = _target(item)
    if target:
        text += f" on {target}"
    if item.get("actor"):
        text += f" by {item['actor']}"
    if item.get("detail"):
        text += f" — {truncate(str(item['detail']), 300)}"
    return escape(text)


def _unique_by_target(items: Sequence[object]) -> list[object]:
    seen: set[str] = set()
    unique = []
    for item in items:
        key = _target(item) if isinstance(item, Mapping) else str(item)
        if key not in seen:
            seen.add(key)
            unique.append(item)
    return unique


def format_status(data: Mapping[str, Any], now: float | None = None) -> str:
    current = time.time() if now is None else now
    lines = [f"*Healer status* — dry-run mode is *{'on' if data.get('dry_run') else 'off'}*"]
    held = _unique_by_target([*(data.get("paused") or []), *(data.get("silenced") or [])])
    lines.append("*Paused or silenced:* " + ("none" if not held else ""))
    lines += [f"• {silence_line(item, current)}" for item in held[:20]]
    approvals = data.get("pending_approvals") or []
    lines.append("*Waiting for approval:* " + ("none" if not approvals else ""))
    for item in approvals[:20]:
        if isinstance(item, Mapping):
            what = " ".join(str(item.get(k) or "") for k in ("action", "incident_id")).strip()
            lines.append(f"• {escape(what or str(dict(item))[:200])} on `{escape(_target(item) or '?')}`")
    recent = data.get("recent") or []
    if recent:
        lines.append("*Recent decisions:*")
        lines += [f"• {decision_line(item)}" for item in recent[:10]]
    return "\n".join(lines)


def format_history(target: str, data: Mapping[str, Any]) -> str:
    decisions = data.get("decisions") or []
    shown = escape(target.removeprefix("*/"))
    if not decisions:
        return f"No healer decisions recorded for `{shown}`."
    return f"*Healer history for `{shown}`* (newest first):\n" + "\n".join(
        f"• {decision_line(item)}" for item in decisions[:50]
    )
