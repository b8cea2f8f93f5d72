"""The live timeline: one readable line per event, with seconds since the scenario began."""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from typing import TextIO

LABELS = {
    "setup": "SETUP",
    "inject": "INJECT",
    "alert": "ALERT",
    "publish": "PUBSUB",
    "decision": "HEALER",
    "chat": "CHAT",
    "recovered": "HEALED",
    "closed": "CLOSED",
    "info": "INFO",
    "check": "CHECK",
}


@dataclass(frozen=True)
class Event:
    at: float  # epoch seconds
    elapsed: float  # seconds since the timeline began
    category: str
    fault: str
    text: str


class Timeline:
    def __init__(self, out: TextIO | None = None, quiet: bool = False) -> None:
        self.started = time.time()
        self._out = out or sys.stdout
        self._quiet = quiet
        self._lock = threading.Lock()
        self.events: list[Event] = []

    def add(self, category: str, text: str, fault: str = "", at: float | None = None) -> Event:
        moment = time.time() if at is None else at
        event = Event(moment, moment - self.started, category, fault, text)
        with self._lock:
            self.events.append(event)
            if not self._quiet:
                label = LABELS.get(category, category.upper())
                tag = f" [{fault}]" if fault else ""
                self._out.write(f"{event.elapsed:7.2f}s  {label:<7}{tag} {text}\n")
                self._out.flush()
        return event

    def note(self, text: str) -> None:
        with self._lock:
            if not self._quiet:
                self._out.write(text + "\n")
                self._out.flush()
