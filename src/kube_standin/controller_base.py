"""State and helpers shared by the simulated controllers (one lock: the store's)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from kube_standin.backoff import BACKOFF_MODES, CrashSchedule, crash_schedule
from kube_standin.clock import rfc3339
from kube_standin.events import EventRecorder
from kube_standin.faults import FaultRegistry
from kube_standin.objects import SAFE_ALPHANUMS, controller_uid
from kube_standin.quantity import parse_quantity
from kube_standin.store import Store, clone

Obj = dict[str, Any]
TERMINAL_PHASES = ("Failed", "Succeeded")


@dataclass(frozen=True)
class SimulationSettings:
    """How the simulated kubelet behaves."""

    ready_delay_seconds: float = 0.2
    crash_restart_interval_seconds: float = 1.0
    # "fixed": a crash every interval; "exponential": the kubelet's back-off (interval, 2x, 4x ... 30x).
    crash_backoff: str = "fixed"
    # How long a deleted pod stays Terminating (capped by the request's gracePeriodSeconds); 0 = gone at once.
    pod_termination_seconds: float = 0.0
    # Pods on a node that stays NotReady this long are evicted (the not-ready NoExecute toleration).
    not_ready_eviction_seconds: float = 300.0
    # Place pods only where their cpu/memory requests fit in the node's allocatable (else Pending).
    schedule_by_requests: bool = False

    def __post_init__(self) -> None:
        if self.ready_delay_seconds < 0:
            raise ValueError("ready_delay_seconds must be >= 0")
        if self.pod_termination_seconds < 0:
            raise ValueError("pod_termination_seconds must be >= 0")
        if self.crash_restart_interval_seconds <= 0:
            raise ValueError("crash_restart_interval_seconds must be > 0")
        if self.crash_backoff not in BACKOFF_MODES:
            raise ValueError(f"crash_backoff must be one of {', '.join(BACKOFF_MODES)}, not {self.crash_backoff!r}")
        if self.not_ready_eviction_seconds <= 0:
            raise ValueError("not_ready_eviction_seconds must be > 0")


@dataclass
class ContainerRuntime:
    started_at: float
    crash_reason: str | None = None
    crash_since: float = 0.0
    restarts_before: int = 0
    last_termination: Obj | None = None
    noted_restarts: int = 0
    pulling_since: float | None = None  # the image cannot be pulled: waiting, never started


@dataclass
class PodRuntime:
    scheduled_at: float
    containers: dict[str, ContainerRuntime] = field(default_factory=dict)
    pod_ip: str = ""
    terminate_at: float | None = None


def is_terminal(pod: Obj) -> bool:
    return pod.get("status", {}).get("phase") in TERMINAL_PHASES


def is_active(pod: Obj) -> bool:
    """Neither finished nor terminating: what controllers count (controller.FilterActivePods)."""
    return not is_terminal(pod) and not pod.get("metadata", {}).get("deletionTimestamp")


def is_ready(pod: Obj) -> bool:
    for condition in pod.get("status", {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def node_is_ready(node: Obj | None) -> bool:
    if node is None:
        return False
    for condition in node.get("status", {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def container_limit(container: Obj, resource: str) -> float | None:
    value = ((container.get("resources") or {}).get("limits") or {}).get(resource)
    return None if value is None else parse_quantity(value)


def pod_requests(pod: Obj) -> tuple[float, float]:
    """Requested (cpu cores, memory bytes), requests defaulting to limits as the API server does."""
    containers = pod.get("spec", {}).get("containers") or []
    return (
        sum(container_request(c, "cpu") or 0.0 for c in containers),
        sum(container_request(c, "memory") or 0.0 for c in containers),
    )


def container_request(container: Obj, resource: str) -> float | None:
    resources = container.get("resources") or {}
    value = (resources.get("requests") or {}).get(resource) or (resources.get("limits") or {}).get(resource)
    return None if value is None else parse_quantity(value)


class ControllerBase:
    def __init__(self, store: Store, faults: FaultRegistry, settings: SimulationSettings) -> None:
        self.store = store
        self.faults = faults
        self.settings = settings
        self.events = EventRecorder(store)
        self.runtime: dict[str, PodRuntime] = {}
        self._progress: dict[str, tuple[Any, float]] = {}
        self._last_sync: tuple[int, Any] | None = None
        self._next_due = math.inf  # the earliest time at which the clock alone changes some object
        self._node_load: dict[str, int] = {}
        self._node_requests: dict[str, tuple[float, float]] = {}  # node -> requested (cpu cores, memory bytes)
        # While loading a fixture, pods count as started long enough ago to be ready already.
        self.settling = False

    # ------------------------------------------------------------------ helpers
    def owned(self, resource: str, namespace: str, owner_uid: str) -> list[Obj]:
        """Objects of `resource` whose controller is owner_uid, sorted by name."""
        return [
            obj
            for _, obj in self.store.dependents(owner_uid, resource)
            if obj["metadata"].get("namespace", "") == namespace and controller_uid(obj) == owner_uid
        ]

    def owning_deployment(self, pod: Obj) -> Obj | None:
        rs_uid = controller_uid(pod)
        rs = self.store.find_by_uid("replicasets", rs_uid) if rs_uid else None
        dep_uid = controller_uid(rs) if rs is not None else None
        return self.store.find_by_uid("deployments", dep_uid) if dep_uid else None

    def _random_suffix(self, length: int = 5) -> str:
        return "".join(self.store.rng.choice(SAFE_ALPHANUMS) for _ in range(length))

    def _fresh(self, obj: Obj) -> Obj:
        meta = obj["metadata"]
        resource = "replicasets" if obj.get("kind") == "ReplicaSet" else "deployments"
        return self.store.get(resource, meta.get("namespace", ""), meta["name"]) or obj

    def _start_time(self, now: float) -> float:
        return now - self.settings.ready_delay_seconds if self.settling else now

    def terminate_pod(self, pod: Obj, grace_seconds: float | None = None) -> Obj:
        """Delete a pod the way the API server and kubelet do: Terminating for pod_termination_seconds
        (at most grace_seconds), then gone. Returns the pod as the DELETE answer shows it."""
        meta = pod["metadata"]
        seconds = self.settings.pod_termination_seconds
        if grace_seconds is not None:
            seconds = min(seconds, max(0.0, grace_seconds))
        runtime = self.runtime.get(meta["uid"])
        if seconds <= 0 or runtime is None or is_terminal(pod):
            self.store.remove("pods", meta.get("namespace", ""), meta["name"])
            return pod
        if meta.get("deletionTimestamp"):
            return pod
        now = self.store.clock.now()
        runtime.terminate_at = now + seconds
        updated = clone(pod)
        updated["metadata"]["deletionTimestamp"] = rfc3339(now + seconds)
        updated["metadata"]["deletionGracePeriodSeconds"] = math.ceil(seconds)
        stored = self.store.put("pods", updated)
        for container in pod["spec"].get("containers") or []:
            self.events.record(stored, "Normal", "Killing", f"Stopping container {container['name']}", "kubelet")
        self._due(runtime.terminate_at)
        return stored

    def crash_schedule(self, runtime: ContainerRuntime, now: float) -> CrashSchedule:
        settings = self.settings
        return crash_schedule(
            settings.crash_backoff, settings.crash_restart_interval_seconds, now - runtime.crash_since
        )

    def _due(self, moment: float) -> None:
        """Note that the clock alone will change state at `moment`."""
        self._next_due = min(self._next_due, moment)

    @staticmethod
    def _condition(
        old: Obj | None,
        condition_type: str,
        now: float,
        status: str,
        reason: str,
        message: str,
        update: bool = False,
    ) -> Obj:
        stamp = rfc3339(now)
        same = old is not None and old.get("status") == status and old.get("reason") == reason
        return {
            "type": condition_type,
            "status": status,
            "lastUpdateTime": stamp if (update or not same or old is None) else old.get("lastUpdateTime", stamp),
            "lastTransitionTime": old.get("lastTransitionTime", stamp)
            if (old is not None and old.get("status") == status)
            else stamp,
            "reason": reason,
            "message": message,
        }
