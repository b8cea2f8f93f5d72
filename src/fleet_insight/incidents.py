"""Healing history: rows of the healing-actions table folded into incidents, and what they tell.

One incident = one ``incident_id``; its rows are the healer's decisions over time
(acted, verified, failed, escalated, closed, ...).
"""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fleet_insight.resources import percentile

ACTED_OUTCOMES = frozenset({"acted", "verified", "failed", "escalated"})
NODE_KINDS = frozenset({"node_not_ready"})
_POD_SUFFIX = re.compile(r"-[a-z0-9]{6,10}-[a-z0-9]{5}$")


@dataclass(frozen=True)
class Target:
    """What an incident is about: a workload (kind Deployment) or a node (kind Node)."""

    cluster: str
    namespace: str
    kind: str
    name: str

    def label(self) -> str:
        return self.name if self.kind == "Node" else f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Incident:
    incident_id: str
    kind: str
    target: Target
    started: datetime
    ended: datetime
    actions: tuple[str, ...]
    outcomes: tuple[str, ...]
    healed: bool
    time_to_recover_s: float | None

    @property
    def acted(self) -> bool:
        return any(o in ACTED_OUTCOMES for o in self.outcomes)

    @property
    def final_outcome(self) -> str:
        return self.outcomes[-1] if self.outcomes else ""

    @property
    def failed(self) -> bool:
        return "failed" in self.outcomes or "escalated" in self.outcomes


def _text(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value)


def resolve_target(row: Mapping[str, Any], known_workloads: Mapping[tuple[str, str], Sequence[str]]) -> Target:
    """Map a healing row to the workload or node it concerns.

    ``known_workloads``: (cluster, namespace) -> controller names seen in the features
    table; a Pod target is attributed to the longest known controller its name starts
    with, else to the name without the ReplicaSet/pod hash suffix.
    """
    cluster, namespace = _text(row, "cluster"), _text(row, "namespace")
    target_kind, target_name = _text(row, "target_kind"), _text(row, "target_name")
    if target_kind == "Node" or _text(row, "incident_kind") in NODE_KINDS:
        return Target(cluster, "", "Node", target_name or _text(row, "pod") or "(unknown node)")
    if target_kind == "Pod" or (not target_name and row.get("pod")):
        pod = target_name or _text(row, "pod")
        candidates = [c for c in known_workloads.get((cluster, namespace), ()) if pod.startswith(c + "-")]
        if candidates:
            return Target(cluster, namespace, "Deployment", max(candidates, key=len))
        return Target(cluster, namespace, "Deployment", _POD_SUFFIX.sub("", pod) or pod)
    return Target(cluster, namespace, target_kind or "Deployment", target_name or "(unknown)")


def fold_incidents(
    rows: Iterable[Mapping[str, Any]], known_workloads: Mapping[tuple[str, str], Sequence[str]] | None = None
) -> list[Incident]:
    """Incidents sorted by start, from healing-action rows in any order."""
    known = known_workloads or {}
    grouped: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        decided = row.get("decided_at")
        if not isinstance(decided, datetime):
            raise ValueError(f"healing row of incident {row.get('incident_id')!r} has no decided_at timestamp")
        if decided.tzinfo is None:  # TIMESTAMP without zone (e.g. a local DuckDB audit file): UTC
            row = {**row, "decided_at": decided.replace(tzinfo=UTC)}
        grouped[_text(row, "incident_id")].append(row)
    out = []
    for incident_id, items in grouped.items():
        items.sort(key=lambda r: r["decided_at"])
        first = items[0]
        ttr = [float(r["time_to_recover_s"]) for r in items if r.get("time_to_recover_s") is not None]
        out.append(
            Incident(
                incident_id=incident_id,
                kind=next((_text(r, "incident_kind") for r in items if r.get("incident_kind")), "unknown"),
                target=resolve_target(first, known),
                started=first["decided_at"],
                ended=items[-1]["decided_at"],
                actions=tuple(dict.fromkeys(_text(r, "action") for r in items if r.get("action"))),
                outcomes=tuple(_text(r, "outcome") for r in items),
                healed=any(r.get("healed") is True for r in items),
                time_to_recover_s=max(ttr) if ttr else None,
            )
        )
    out.sort(key=lambda i: (i.started, i.incident_id))
    return out


@dataclass(frozen=True)
class Recurrence:
    """A healed incident followed by a new one on the same target within the window."""

    healed: Incident
    came_back: Incident
    gap: timedelta


def recurrences(incidents: Sequence[Incident], within: timedelta) -> list[Recurrence]:
    by_target: dict[Target, list[Incident]] = defaultdict(list)
    for inc in sorted(incidents, key=lambda i: i.started):
        by_target[inc.target].append(inc)
    out = []
    for items in by_target.values():
        for prev, nxt in itertools.pairwise(items):
            gap = nxt.started - prev.ended
            if prev.healed and gap <= within:
                out.append(Recurrence(prev, nxt, gap))
    return out


def held_ids(incidents: Sequence[Incident], within: timedelta) -> set[str]:
    """Incidents the healer acted on that healed and did not come back within ``within``."""
    came_back = {r.healed.incident_id for r in recurrences(incidents, within)}
    return {i.incident_id for i in incidents if i.acted and i.healed and i.incident_id not in came_back}


@dataclass(frozen=True)
class RecurringTarget:
    target: Target
    incidents: int
    kinds: tuple[str, ...]
    healed: int
    came_back: int
    last_seen: datetime


def top_recurring(incidents: Sequence[Incident], within: timedelta, limit: int = 10) -> list[RecurringTarget]:
    """Targets with the most incidents (at least two), most first."""
    back = Counter(r.healed.target for r in recurrences(incidents, within))
    by_target: dict[Target, list[Incident]] = defaultdict(list)
    for inc in incidents:
        by_target[inc.target].append(inc)
    rows = [
        RecurringTarget(
            target=t,
            incidents=len(items),
            kinds=tuple(k for k, _ in Counter(i.kind for i in items).most_common()),
            healed=sum(1 for i in items if i.healed),
            came_back=back.get(t, 0),
            last_seen=max(i.started for i in items),
        )
        for t, items in by_target.items()
        if len(items) >= 2
    ]
    rows.sort(key=lambda r: (-r.incidents, -r.came_back, r.target.label()))
    return rows[:limit]


@dataclass(frozen=True)
class HealingSummary:
    kind: str
    action: str
    incidents: int
    healed: int
    failed: int
    median_ttr_s: float | None
    p90_ttr_s: float | None


def healing_summary(incidents: Sequence[Incident]) -> list[HealingSummary]:
    """Per incident kind and first action: how often it healed and how fast."""
    groups: dict[tuple[str, str], list[Incident]] = defaultdict(list)
    for inc in incidents:
        if inc.acted:
            groups[(inc.kind, inc.actions[0] if inc.actions else "-")].append(inc)
    out = []
    for (kind, action), items in groups.items():
        ttr = [i.time_to_recover_s for i in items if i.healed and i.time_to_recover_s is not None]
        out.append(
            HealingSummary(
                kind=kind,
                action=action,
                incidents=len(items),
                healed=sum(1 for i in items if i.healed),
                failed=sum(1 for i in items if i.failed),
                median_ttr_s=percentile(ttr, 50),
                p90_ttr_s=percentile(ttr, 90),
            )
        )
    out.sort(key=lambda s: (-s.incidents, s.kind, s.action))
    return out
