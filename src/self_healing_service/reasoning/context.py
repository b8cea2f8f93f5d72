"""What the healer gathered about an incident, the way a human on call would gather it.

Plain data, filled by the healer from the alert and the cluster (its kube module does the
Kubernetes calls; nothing here imports ``kubernetes``). It may hold secrets — environment
values, tokens in log lines — so it is never sent anywhere as is: the analyzer turns it into a
scrubbed, size-bounded summary.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field


class ContextError(ValueError):
    """The incident context is malformed; the message names the field."""


def _check_fields(obj: object, where: str, strings: tuple[str, ...], ints: tuple[str, ...] = ()) -> None:
    for name in strings:
        value = getattr(obj, name)
        if not isinstance(value, str):
            raise ContextError(f"{where}.{name}: expected a string, got {type(value).__name__}")
    for name in ints:
        value = getattr(obj, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ContextError(f"{where}.{name}: expected an integer >= 0, got {value!r}")


@dataclass(frozen=True)
class RolloutRevision:
    revision: int
    created_at: str = ""  # RFC 3339
    images: tuple[str, ...] = ()
    change_cause: str = ""

    def __post_init__(self) -> None:
        _check_fields(self, "rollout_history[]", ("created_at", "change_cause"), ("revision",))
        if not isinstance(self.images, tuple) or not all(isinstance(i, str) for i in self.images):
            raise ContextError("rollout_history[].images: expected a tuple of strings")


@dataclass(frozen=True)
class PodStatus:
    name: str
    phase: str = ""
    ready: bool = False
    restart_count: int = 0
    last_termination_reason: str = ""
    waiting_reason: str = ""
    node: str = ""

    def __post_init__(self) -> None:
        strings = ("name", "phase", "last_termination_reason", "waiting_reason", "node")
        _check_fields(self, "pod_statuses[]", strings, ("restart_count",))
        if not isinstance(self.ready, bool):
            raise ContextError(f"pod_statuses[].ready: expected true or false, got {self.ready!r}")


@dataclass(frozen=True)
class EventRecord:
    type: str = ""  # Normal | Warning
    reason: str = ""
    message: str = ""
    count: int = 1
    last_seen: str = ""  # RFC 3339
    object_name: str = ""

    def __post_init__(self) -> None:
        _check_fields(self, "events[]", ("type", "reason", "message", "last_seen", "object_name"), ("count",))


@dataclass(frozen=True)
class ContainerSpec:
    name: str
    image: str = ""
    resources: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # {"limits": {"memory": "512Mi"}}
    env: Mapping[str, str] = field(default_factory=dict)  # name -> value; values never leave the analyzer

    def __post_init__(self) -> None:
        _check_fields(self, "containers[]", ("name", "image"))
        if not isinstance(self.env, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in self.env.items()
        ):
            raise ContextError(f"containers[{self.name}].env: expected a mapping of name -> string value")
        if not isinstance(self.resources, Mapping) or not all(
            isinstance(section, Mapping) for section in self.resources.values()
        ):
            raise ContextError(f"containers[{self.name}].resources: expected {{section: {{name: quantity}}}}")


@dataclass(frozen=True)
class IncidentContext:
    incident_id: str
    kind: str
    namespace: str
    deployment: str
    cluster: str = ""
    pod: str = ""
    container: str = ""
    metric_type: str = ""
    started_at: str = ""  # RFC 3339: when the incident opened, to line up with rollouts and events
    observed_value: float | None = None
    threshold_value: float | None = None
    anomaly_score: float | None = None
    top_features: Mapping[str, float] = field(default_factory=dict)  # feature -> contribution
    rollout_history: tuple[RolloutRevision, ...] = ()
    pod_statuses: tuple[PodStatus, ...] = ()
    last_log_lines: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # pod -> lines, oldest first
    events: tuple[EventRecord, ...] = ()
    containers: tuple[ContainerSpec, ...] = ()

    def __post_init__(self) -> None:
        for name in ("incident_id", "kind", "namespace", "deployment"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ContextError(f"incident context.{name}: required, got {value!r}")
        _check_fields(self, "incident context", ("cluster", "pod", "container", "metric_type", "started_at"))
        for name in ("observed_value", "threshold_value", "anomaly_score"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value)
            ):
                raise ContextError(f"incident context.{name}: expected a finite number or None, got {value!r}")
        for feature, weight in self.top_features.items():
            if not isinstance(feature, str) or isinstance(weight, bool) or not isinstance(weight, int | float):
                raise ContextError(f"incident context.top_features: {feature!r} -> {weight!r} is not name -> number")
        for label, items, kind in (
            ("rollout_history", self.rollout_history, RolloutRevision),
            ("pod_statuses", self.pod_statuses, PodStatus),
            ("events", self.events, EventRecord),
            ("containers", self.containers, ContainerSpec),
        ):
            if not isinstance(items, tuple) or not all(isinstance(item, kind) for item in items):
                raise ContextError(f"incident context.{label}: expected a tuple of {kind.__name__}")
        for pod, lines in self.last_log_lines.items():
            if not isinstance(lines, tuple | list) or not all(isinstance(line, str) for line in lines):
                raise ContextError(f"incident context.last_log_lines[{pod!r}]: expected a sequence of strings")

    @property
    def nodes(self) -> frozenset[str]:
        """Nodes the Deployment's pods run on (the only nodes a plan may drain)."""
        return frozenset(p.node for p in self.pod_statuses if p.node)

    @property
    def pod_names(self) -> frozenset[str]:
        return frozenset(p.name for p in self.pod_statuses) | ({self.pod} if self.pod else frozenset())

    @property
    def container_names(self) -> frozenset[str]:
        return frozenset(c.name for c in self.containers) | ({self.container} if self.container else frozenset())

    @property
    def revisions(self) -> frozenset[int]:
        return frozenset(r.revision for r in self.rollout_history)

    def secret_values(self) -> tuple[str, ...]:
        """Environment values that could be secrets: scrubbed from all text, and checked for before sending.

        A value counts when it is at least 6 characters long, is not part of one of the incident's own
        names or images, and is not a plain word (it has a digit, a symbol, or mixed case). Plain words like
        ``production`` and short values like ``8080`` are not secrets and would only cause false alarms.
        """
        identities = {self.namespace, self.deployment, self.cluster, self.pod, self.container}
        identities |= self.pod_names | self.nodes | self.container_names
        identities |= {c.image for c in self.containers}
        identities |= {image for r in self.rollout_history for image in r.images}
        found = set()
        for spec in self.containers:
            for value in spec.env.values():
                if len(value) < 6 or any(value in name for name in identities):
                    continue  # part of a public name: not a secret, and the name must stay readable
                plain_word = value.isalpha() and (value.islower() or value.isupper())
                if not plain_word:
                    found.add(value)
        return tuple(sorted(found, key=lambda v: (-len(v), v)))
