"""Small shared pieces of the Slack request handlers: the reply type, form parsing, request ids."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs


@dataclass(frozen=True)
class Reply:
    status: int
    body: dict[str, Any]


def ephemeral(text: str) -> Reply:
    """An answer only the person who typed or clicked sees."""
    return Reply(200, {"response_type": "ephemeral", "text": text})


def request_id(*parts: str) -> str:
    """A stable id for one click or command, the same on Slack's retries of it."""
    return "slack:" + hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def parse_form(body: bytes) -> dict[str, str]:
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        return {}
    return {k: v[0] for k, v in parsed.items() if v}
