"""Local stand-ins for Slack and Teams: record every message and show its headline."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local_scenario.http_receiver import Answer, HttpReceiver, Received


@dataclass(frozen=True)
class ChatMessage:
    channel: str  # slack | teams
    at: float
    headline: str
    payload: Any


def _first_text_block(node: Any) -> str:
    if isinstance(node, dict):
        if node.get("type") == "TextBlock" and isinstance(node.get("text"), str):
            return str(node["text"])
        for value in node.values():
            found = _first_text_block(value)
            if found:
                return found
    elif isinstance(node, list):
        for item in node:
            found = _first_text_block(item)
            if found:
                return found
    return ""


def headline(channel: str, payload: Any) -> str:
    if not isinstance(payload, dict):
        return "(not a JSON object)"
    if channel == "slack":
        for block in payload.get("blocks") or []:
            if isinstance(block, dict) and block.get("type") == "header":
                return str((block.get("text") or {}).get("text", ""))
        return str(payload.get("text", ""))[:200]
    return _first_text_block(payload)[:200] or "(card without text)"


class ChatReceivers:
    """A Slack incoming-webhook receiver and a Teams Workflows receiver on loopback."""

    def __init__(self, on_message: Callable[[ChatMessage], None]) -> None:
        self._on_message = on_message
        self._lock = threading.Lock()
        self.messages: list[ChatMessage] = []
        self.slack = HttpReceiver(handler=self._handler("slack", Answer(200, b"ok")))
        self.teams = HttpReceiver(handler=self._handler("teams", Answer(202, b"")))

    def _handler(self, channel: str, answer: Answer) -> Callable[[Received], Answer]:
        def handle(item: Received) -> Answer:
            try:
                payload = json.loads(item.body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                payload = item.body.decode("utf-8", "replace")
            message = ChatMessage(channel, time.time(), headline(channel, payload), payload)
            with self._lock:
                self.messages.append(message)
            self._on_message(message)
            return answer

        return handle

    def start(self) -> ChatReceivers:
        self.slack.start()
        self.teams.start()
        return self

    def stop(self) -> None:
        self.slack.stop()
        self.teams.stop()

    def snapshot(self) -> list[ChatMessage]:
        with self._lock:
            return list(self.messages)
