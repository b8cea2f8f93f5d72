"""How chat words the healer's actions: declared once per action in the healer's registry.

The healer sends an action's :class:`ActionWording` inside each notification
(``decision.wording``), so ChatOps words a new action without a release of its own.
``action_catalog.json`` is the same wording for every built-in action, generated from the
registry (``python -m self_healing_service.actions.catalog``; a test keeps it current), for
notifications that do not carry it. Pure data, no I/O beyond reading that file once.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

CATALOG_FILE = Path(__file__).with_name("action_catalog.json")


@dataclass(frozen=True)
class ActionWording:
    """An action as a phrase, with ``{name}``, ``{pod}``, ``{node}`` and ``{namespace}`` placeholders."""

    infinitive: str = ""  # "restart Deployment {name} (rollout restart)"
    past: str = ""  # "restarted Deployment {name} (rollout restart)"

    def __bool__(self) -> bool:
        return bool(self.infinitive and self.past)


@functools.cache
def catalog() -> dict[str, ActionWording]:
    """The built-in actions' wording, by action name."""
    doc = json.loads(CATALOG_FILE.read_text(encoding="utf-8"))
    return {name: ActionWording(entry["infinitive"], entry["past"]) for name, entry in doc["actions"].items()}


def wording_for(action: str, sent: ActionWording | None = None) -> ActionWording:
    """The wording a notification carries, else the catalog's, else none (empty)."""
    if sent:
        return sent
    return catalog().get(action, ActionWording())
