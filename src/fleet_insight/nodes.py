"""Node conditions as input: the current Ready/pressure conditions of nodes.

The features table has no node column, so node health comes from the healing actions
(``target_kind = Node`` / ``incident_kind = node_not_ready``) plus, optionally, the
current node conditions passed in here. Accepted shapes:

- a list of ``{"node", "condition", "status", "since"}`` objects;
- a Kubernetes ``NodeList`` (``kubectl get nodes -o json``): ``items[].status.conditions``
  with ``type``, ``status``, ``lastTransitionTime``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PRESSURE_CONDITIONS = ("MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable")
_STATUSES = ("True", "False", "Unknown")


@dataclass(frozen=True)
class NodeCondition:
    node: str
    condition: str
    status: str  # True | False | Unknown
    since: str | None = None


def parse_node_conditions(raw: Any) -> list[NodeCondition]:
    """Validate and normalise either accepted shape; ValueError says what is wrong."""
    if isinstance(raw, Mapping) and isinstance(raw.get("items"), list):
        return _from_node_list(raw["items"])
    if not isinstance(raw, list):
        raise ValueError("node conditions must be a JSON list of {node, condition, status, since} or a NodeList")
    out = []
    for index, item in enumerate(raw):
        if not isinstance(item, Mapping):
            raise ValueError(f"node condition #{index} must be an object")
        node, condition, status = item.get("node"), item.get("condition", item.get("type")), item.get("status")
        if not isinstance(node, str) or not node:
            raise ValueError(f"node condition #{index} needs a non-empty 'node'")
        if not isinstance(condition, str) or not condition:
            raise ValueError(f"node condition #{index} needs a 'condition'")
        out.append(NodeCondition(node, condition, _status(status, index), _since(item)))
    return out


def _from_node_list(items: Sequence[Any]) -> list[NodeCondition]:
    out = []
    for index, node in enumerate(items):
        name = node.get("metadata", {}).get("name") if isinstance(node, Mapping) else None
        if not isinstance(name, str) or not name:
            raise ValueError(f"NodeList item #{index} needs metadata.name")
        conditions = node.get("status", {}).get("conditions") or []
        for c in conditions:
            if not isinstance(c, Mapping) or not isinstance(c.get("type"), str):
                raise ValueError(f"node {name!r}: each condition needs a 'type'")
            out.append(NodeCondition(name, c["type"], _status(c.get("status"), index), _since(c)))
    return out


def _status(value: Any, index: int) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if value not in _STATUSES:
        raise ValueError(f"node condition #{index}: status must be one of {_STATUSES}, got {value!r}")
    return str(value)


def _since(item: Mapping[str, Any]) -> str | None:
    value = item.get("since", item.get("lastTransitionTime"))
    return None if value is None else str(value)


def node_state(conditions: Iterable[NodeCondition]) -> dict[str, tuple[int | None, tuple[int, int] | None]]:
    """node -> (ready 1/0 or None, (pressure conditions true, pressure conditions known) or None)."""
    ready: dict[str, int | None] = {}
    pressure: dict[str, tuple[int, int]] = {}
    for c in conditions:
        ready.setdefault(c.node, None)
        if c.condition == "Ready":
            ready[c.node] = 1 if c.status == "True" else 0
        elif c.condition in PRESSURE_CONDITIONS and c.status in ("True", "False"):
            true, known = pressure.get(c.node, (0, 0))
            pressure[c.node] = (true + (c.status == "True"), known + 1)
    return {node: (ready[node], pressure.get(node)) for node in ready}


def active_pressure(conditions: Iterable[NodeCondition]) -> dict[str, list[str]]:
    """node -> pressure conditions currently True (for display)."""
    out: dict[str, list[str]] = {}
    for c in conditions:
        if c.condition in PRESSURE_CONDITIONS and c.status == "True":
            out.setdefault(c.node, []).append(c.condition)
    return out
