"""An in-process, deterministic stand-in for the deployment, replicaset, scheduler, kubelet,
node-lifecycle and disruption controllers.

`sync()` brings every object up to date with the clock: it is run before each API request and by
a background ticker, and it loops until nothing changes, so with a zero readiness delay a whole
rolling update completes within one call.
"""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

from kube_standin.clock import rfc3339
from kube_standin.events import EventRecorder
from kube_standin.faults import CRASH_OOM, FaultRegistry
from kube_standin.objects import (
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    POD_TEMPLATE_HASH,
    REVISION,
    REVISION_HISTORY,
    SAFE_ALPHANUMS,
    SKIP_COPY_ANNOTATIONS,
    controller_uid,
    owner_reference,
    pod_qos_class,
    pod_template_hash,
    revision_of,
    scaled_value,
    templates_equal,
)
from kube_standin.quantity import parse_quantity
from kube_standin.selectors import labels_match, selector_from_spec
from kube_standin.store import Store, clone

Obj = dict[str, Any]
TERMINAL_PHASES = ("Failed", "Succeeded")
MAX_SYNC_ROUNDS = 200


@dataclass(frozen=True)
class SimulationSettings:
    """How the simulated kubelet behaves."""

    ready_delay_seconds: float = 0.2
    crash_restart_interval_seconds: float = 1.0

    def __post_init__(self) -> None:
        if self.ready_delay_seconds < 0:
            raise ValueError("ready_delay_seconds must be >= 0")
        if self.crash_restart_interval_seconds <= 0:
            raise ValueError("crash_restart_interval_seconds must be > 0")


@dataclass
class ContainerRuntime:
    started_at: float
    crash_reason: str | None = None
    crash_since: float = 0.0
    restarts_before: int = 0
    last_termination: Obj | None = None
    noted_restarts: int = 0


@dataclass
class PodRuntime:
    scheduled_at: float
    containers: dict[str, ContainerRuntime] = field(default_factory=dict)
    pod_ip: str = ""


def is_active(pod: Obj) -> bool:
    return pod.get("status", {}).get("phase") not in TERMINAL_PHASES


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


def container_request(container: Obj, resource: str) -> float | None:
    resources = container.get("resources") or {}
    value = (resources.get("requests") or {}).get(resource) or (resources.get("limits") or {}).get(resource)
    return None if value is None else parse_quantity(value)


class Controller:
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
        # While loading a fixture, pods count as started long enough ago to be ready already.
        self.settling = False

    # ------------------------------------------------------------------ entry point
    def sync(self, force: bool = False) -> None:
        """Reconcile everything. Skipped (cheaply) when no object and no fault changed since the last
        run and the clock has not reached the next time-driven change (a readiness delay, a restart)."""
        with self.store.lock:
            now = self.store.clock.now()
            fingerprint = self.faults.fingerprint()
            if not force and self._last_sync == (self.store.resource_version, fingerprint) and now < self._next_due:
                return
            self._next_due = math.inf
            for _ in range(MAX_SYNC_ROUNDS):
                before = self.store.resource_version
                self._sync_round(now)
                if self.store.resource_version == before:
                    break
            self._last_sync = (self.store.resource_version, fingerprint)

    def _due(self, moment: float) -> None:
        """Note that the clock alone will change state at `moment`."""
        self._next_due = min(self._next_due, moment)

    def _sync_round(self, now: float) -> None:
        for node in self.store.select("nodes"):
            self._sync_node(node)
        for dep in self.store.select("deployments"):
            self._sync_deployment(dep, now)
        for rs in self.store.select("replicasets"):
            self._sync_replicaset_pods(rs)
        pods = self.store.select("pods")
        self._node_load = {}
        for pod in pods:
            if pod["spec"].get("nodeName") and is_active(pod):
                self._node_load[pod["spec"]["nodeName"]] = self._node_load.get(pod["spec"]["nodeName"], 0) + 1
        for pod in pods:
            self._sync_pod(pod, now)
        for rs in self.store.select("replicasets"):
            self._sync_replicaset_status(rs)
        for dep in self.store.select("deployments"):
            self._sync_deployment_status(dep, now)
        for pdb in self.store.select("poddisruptionbudgets"):
            self._sync_pdb(pdb)
        live = {p["metadata"]["uid"] for p in self.store.select("pods")}
        for uid in [u for u in self.runtime if u not in live]:
            del self.runtime[uid]
            self.faults.forget_pod(uid)

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

    # ------------------------------------------------------------------ nodes
    def _sync_node(self, node: Obj) -> None:
        spec = node.get("spec", {})
        wanted: list[Obj] = [
            t
            for t in spec.get("taints") or []
            if t.get("key") not in ("node.kubernetes.io/unschedulable", "node.kubernetes.io/not-ready")
        ]
        if spec.get("unschedulable"):
            wanted.append({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"})
        if not node_is_ready(node):
            wanted.append({"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"})
        if (spec.get("taints") or []) != wanted:
            updated = clone(node)
            if wanted:
                updated["spec"]["taints"] = wanted
            else:
                updated["spec"].pop("taints", None)
            self.store.put("nodes", updated)

    def _pick_node(self) -> Obj | None:
        """The schedulable Ready node with the fewest active pods (ties by name)."""
        nodes = [n for n in self.store.select("nodes") if not n["spec"].get("unschedulable") and node_is_ready(n)]
        if not nodes:
            return None
        chosen = min(nodes, key=lambda n: (self._node_load.get(n["metadata"]["name"], 0), n["metadata"]["name"]))
        name = chosen["metadata"]["name"]
        self._node_load[name] = self._node_load.get(name, 0) + 1
        return chosen

    # ------------------------------------------------------------------ deployments
    def _sync_deployment(self, dep: Obj, now: float) -> None:
        meta, spec = dep["metadata"], dep["spec"]
        namespace, uid = meta["namespace"], meta["uid"]
        owned = self.owned("replicasets", namespace, uid)
        template = spec["template"]
        paused = bool(spec.get("paused"))
        max_revision = max((revision_of(rs) for rs in owned), default=0)
        new_rs = next((rs for rs in owned if templates_equal(rs["spec"]["template"], template)), None)
        if new_rs is None and not paused:
            new_rs = self._create_replicaset(dep, max_revision + 1)
        elif new_rs is not None and not paused and revision_of(new_rs) < max_revision:
            new_rs = self._promote_replicaset(new_rs, max_revision + 1)
        olds = [rs for rs in owned if new_rs is None or rs["metadata"]["uid"] != new_rs["metadata"]["uid"]]
        desired = int(spec.get("replicas", 1))
        if paused:
            target = new_rs or max(olds, key=revision_of, default=None)
            if target is not None and sum(int(rs["spec"]["replicas"]) for rs in owned) != desired:
                self._scale_replicaset(dep, target, desired)
        elif new_rs is not None:
            if spec.get("strategy", {}).get("type") == "Recreate":
                self._recreate(dep, new_rs, olds, desired)
            else:
                self._rolling(dep, new_rs, olds, desired)
            self._sync_replicaset_annotations(dep, new_rs)
        self._cleanup_history(dep, new_rs, olds)
        latest = new_rs or max(olds, key=revision_of, default=None)
        if latest is not None:
            revision = str(revision_of(self._fresh(latest)))
            annotations = meta.get("annotations") or {}
            if annotations.get(REVISION) != revision:
                updated = clone(dep)
                updated["metadata"].setdefault("annotations", {})[REVISION] = revision
                self.store.put("deployments", updated)

    def _fresh(self, obj: Obj) -> Obj:
        meta = obj["metadata"]
        resource = "replicasets" if obj.get("kind") == "ReplicaSet" else "deployments"
        return self.store.get(resource, meta.get("namespace", ""), meta["name"]) or obj

    def _create_replicaset(self, dep: Obj, revision: int) -> Obj:
        meta, spec = dep["metadata"], dep["spec"]
        template = clone(spec["template"])
        template_hash = pod_template_hash(template)
        template.setdefault("metadata", {}).setdefault("labels", {})[POD_TEMPLATE_HASH] = template_hash
        selector = clone(spec.get("selector") or {})
        selector.setdefault("matchLabels", {})[POD_TEMPLATE_HASH] = template_hash
        name = f"{meta['name']}-{template_hash}"
        if self.store.get("replicasets", meta["namespace"], name) is not None:
            name = f"{name}{self._random_suffix(2)}"  # hash collision with a foreign ReplicaSet
        rs: Obj = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": name,
                "namespace": meta["namespace"],
                "labels": dict(template["metadata"]["labels"]),
                "annotations": self._replicaset_annotations(dep, revision),
                "ownerReferences": [owner_reference(dep)],
                "generation": 1,
            },
            "spec": {
                "replicas": 0,
                "minReadySeconds": int(spec.get("minReadySeconds", 0)),
                "selector": selector,
                "template": template,
            },
            "status": {"replicas": 0},
        }
        return self.store.create("replicasets", rs)

    def _replicaset_annotations(self, dep: Obj, revision: int, keep: Obj | None = None) -> Obj:
        annotations = {
            k: v for k, v in (dep["metadata"].get("annotations") or {}).items() if k not in SKIP_COPY_ANNOTATIONS
        }
        if keep and REVISION_HISTORY in keep:
            annotations[REVISION_HISTORY] = keep[REVISION_HISTORY]
        desired = int(dep["spec"].get("replicas", 1))
        annotations[DESIRED_REPLICAS] = str(desired)
        annotations[MAX_REPLICAS] = str(desired + self._max_surge(dep, desired))
        annotations[REVISION] = str(revision)
        return annotations

    def _sync_replicaset_annotations(self, dep: Obj, rs: Obj) -> None:
        rs = self._fresh(rs)
        current = rs["metadata"].get("annotations") or {}
        wanted = self._replicaset_annotations(dep, revision_of(rs), current)
        if current != wanted:
            updated = clone(rs)
            updated["metadata"]["annotations"] = wanted
            self.store.put("replicasets", updated)

    def _promote_replicaset(self, rs: Obj, revision: int) -> Obj:
        """A rollback re-used an old template: that ReplicaSet becomes the newest revision."""
        updated = clone(rs)
        annotations = updated["metadata"].setdefault("annotations", {})
        old = annotations.get(REVISION, "")
        history = [h for h in annotations.get(REVISION_HISTORY, "").split(",") if h]
        if old:
            history.append(old)
        annotations[REVISION_HISTORY] = ",".join(history)
        annotations[REVISION] = str(revision)
        return self.store.put("replicasets", updated)

    def _scale_replicaset(self, dep: Obj, rs: Obj, replicas: int) -> None:
        rs = self._fresh(rs)
        current = int(rs["spec"]["replicas"])
        if current == replicas:
            return
        updated = clone(rs)
        updated["spec"]["replicas"] = replicas
        updated["metadata"]["generation"] = int(rs["metadata"].get("generation", 1)) + 1
        self.store.put("replicasets", updated)
        direction = "up" if replicas > current else "down"
        self.events.record(
            dep,
            "Normal",
            "ScalingReplicaSet",
            f"Scaled {direction} replica set {rs['metadata']['name']} to {replicas} from {current}",
            "deployment-controller",
        )

    def _max_surge(self, dep: Obj, desired: int) -> int:
        strategy = dep["spec"].get("strategy") or {}
        if strategy.get("type") == "Recreate":
            return 0
        rolling = strategy.get("rollingUpdate") or {}
        return scaled_value(rolling.get("maxSurge", "25%"), desired, round_up=True)

    def _max_unavailable(self, dep: Obj, desired: int) -> int:
        strategy = dep["spec"].get("strategy") or {}
        if strategy.get("type") == "Recreate":
            return desired
        rolling = strategy.get("rollingUpdate") or {}
        surge = self._max_surge(dep, desired)
        unavailable = scaled_value(rolling.get("maxUnavailable", "25%"), desired, round_up=False)
        if surge == 0 and unavailable == 0:
            unavailable = 1
        return min(unavailable, desired)

    def _available(self, rs: Obj) -> int:
        namespace = rs["metadata"]["namespace"]
        pods = self.owned("pods", namespace, rs["metadata"]["uid"])
        return sum(1 for p in pods if is_active(p) and is_ready(p))

    def _rolling(self, dep: Obj, new_rs: Obj, olds: list[Obj], desired: int) -> None:
        """deployment/rolling.go: reconcileNewReplicaSet then reconcileOldReplicaSets."""
        new_rs = self._fresh(new_rs)
        olds = [self._fresh(rs) for rs in olds]
        active_olds = [rs for rs in olds if int(rs["spec"]["replicas"]) > 0]
        if not active_olds:
            self._scale_replicaset(dep, new_rs, desired)
            return
        new_replicas = int(new_rs["spec"]["replicas"])
        if new_replicas > desired:
            self._scale_replicaset(dep, new_rs, desired)
        elif new_replicas < desired:
            total = new_replicas + sum(int(rs["spec"]["replicas"]) for rs in olds)
            max_total = desired + self._max_surge(dep, desired)
            if total < max_total:
                self._scale_replicaset(dep, new_rs, new_replicas + min(max_total - total, desired - new_replicas))
        new_rs = self._fresh(new_rs)
        all_pods = int(new_rs["spec"]["replicas"]) + sum(int(self._fresh(rs)["spec"]["replicas"]) for rs in olds)
        min_available = desired - self._max_unavailable(dep, desired)
        new_unavailable = int(new_rs["spec"]["replicas"]) - self._available(new_rs)
        max_scaled_down = all_pods - min_available - new_unavailable
        if max_scaled_down <= 0:
            return
        by_age = sorted(olds, key=lambda rs: (revision_of(rs), rs["metadata"]["name"]))
        cleaned = 0
        for rs in by_age:  # clean up unhealthy old replicas first
            rs = self._fresh(rs)
            replicas = int(rs["spec"]["replicas"])
            unhealthy = replicas - self._available(rs)
            if replicas == 0 or unhealthy <= 0 or cleaned >= max_scaled_down:
                continue
            step = min(max_scaled_down - cleaned, unhealthy)
            self._scale_replicaset(dep, rs, replicas - step)
            cleaned += step
        available = self._available(new_rs) + sum(self._available(self._fresh(rs)) for rs in olds)
        if available <= min_available:
            return
        to_scale_down = available - min_available
        scaled = 0
        for rs in by_age:
            rs = self._fresh(rs)
            replicas = int(rs["spec"]["replicas"])
            if replicas == 0 or scaled >= to_scale_down:
                continue
            step = min(replicas, to_scale_down - scaled)
            self._scale_replicaset(dep, rs, replicas - step)
            scaled += step

    def _recreate(self, dep: Obj, new_rs: Obj, olds: list[Obj], desired: int) -> None:
        namespace = dep["metadata"]["namespace"]
        old_pods = 0
        for rs in olds:
            self._scale_replicaset(dep, rs, 0)
            old_pods += sum(1 for p in self.owned("pods", namespace, rs["metadata"]["uid"]) if is_active(p))
        if old_pods == 0:
            self._scale_replicaset(dep, new_rs, desired)

    def _cleanup_history(self, dep: Obj, new_rs: Obj | None, olds: list[Obj]) -> None:
        limit = int(dep["spec"].get("revisionHistoryLimit", 10))
        namespace = dep["metadata"]["namespace"]
        idle = [
            rs
            for rs in (self._fresh(o) for o in olds)
            if int(rs["spec"]["replicas"]) == 0
            and not any(is_active(p) for p in self.owned("pods", namespace, rs["metadata"]["uid"]))
        ]
        idle.sort(key=revision_of)
        for rs in idle[: max(0, len(idle) - limit)]:
            self.store.remove("replicasets", namespace, rs["metadata"]["name"])

    def _sync_deployment_status(self, dep: Obj, now: float) -> None:
        meta, spec = dep["metadata"], dep["spec"]
        namespace, uid = meta["namespace"], meta["uid"]
        desired = int(spec.get("replicas", 1))
        owned = self.owned("replicasets", namespace, uid)
        new_rs = next((rs for rs in owned if templates_equal(rs["spec"]["template"], spec["template"])), None)
        total = updated = ready = 0
        for rs in owned:
            pods = [p for p in self.owned("pods", namespace, rs["metadata"]["uid"]) if is_active(p)]
            total += len(pods)
            ready += sum(1 for p in pods if is_ready(p))
            if new_rs is not None and rs["metadata"]["uid"] == new_rs["metadata"]["uid"]:
                updated = len(pods)
        spec_total = sum(int(rs["spec"]["replicas"]) for rs in owned)
        status: Obj = {"observedGeneration": int(meta.get("generation", 1))}
        for key, value in (
            ("replicas", total),
            ("updatedReplicas", updated),
            ("readyReplicas", ready),
            ("availableReplicas", ready),
            ("unavailableReplicas", max(0, spec_total - ready)),
        ):
            if value:
                status[key] = value
        old_conditions = {c["type"]: c for c in dep.get("status", {}).get("conditions") or []}
        min_available = desired - self._max_unavailable(dep, desired)
        conditions = [
            self._condition(
                old_conditions.get("Available"),
                "Available",
                now,
                *(
                    ("True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
                    if ready >= min_available
                    else (
                        "False",
                        "MinimumReplicasUnavailable",
                        "Deployment does not have minimum availability.",
                    )
                ),
            )
        ]
        conditions.append(self._progressing(dep, new_rs, old_conditions.get("Progressing"), now, total, updated, ready))
        status["conditions"] = conditions
        if dep.get("status") != status:
            updated_dep = clone(dep)
            updated_dep["status"] = status
            self.store.put("deployments", updated_dep)

    def _progressing(
        self, dep: Obj, new_rs: Obj | None, old: Obj | None, now: float, total: int, updated: int, ready: int
    ) -> Obj:
        spec = dep["spec"]
        desired = int(spec.get("replicas", 1))
        uid = dep["metadata"]["uid"]
        rs_name = new_rs["metadata"]["name"] if new_rs is not None else ""
        if spec.get("paused"):
            return self._condition(old, "Progressing", now, "Unknown", "DeploymentPaused", "Deployment is paused")
        signature = (rs_name, int(new_rs["spec"]["replicas"]) if new_rs else 0, updated, ready, total)
        previous = self._progress.get(uid)
        if previous is None or previous[0] != signature:
            self._progress[uid] = (signature, now)
        last_progress = self._progress[uid][1]
        if updated == desired and total == desired and ready >= desired:
            return self._condition(
                old, "Progressing", now, "True", "NewReplicaSetAvailable",
                f'ReplicaSet "{rs_name}" has successfully progressed.',
                update=previous is None or previous[0] != signature,
            )  # fmt: skip
        deadline = spec.get("progressDeadlineSeconds")
        if deadline is not None and now - last_progress > float(deadline):
            return self._condition(
                old, "Progressing", now, "False", "ProgressDeadlineExceeded",
                f'ReplicaSet "{rs_name}" has timed out progressing.',
            )  # fmt: skip
        if deadline is not None:
            self._due(math.nextafter(last_progress + float(deadline), math.inf))
        return self._condition(
            old, "Progressing", now, "True", "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.',
            update=previous is None or previous[0] != signature,
        )  # fmt: skip

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

    # ------------------------------------------------------------------ replicasets
    def _sync_replicaset_pods(self, rs: Obj) -> None:
        namespace = rs["metadata"]["namespace"]
        pods = [p for p in self.owned("pods", namespace, rs["metadata"]["uid"]) if is_active(p)]
        diff = int(rs["spec"]["replicas"]) - len(pods)
        for _ in range(diff):
            self._create_pod(rs)
        if diff < 0:
            pods.sort(key=self._deletion_rank)
            for pod in pods[:-diff]:
                self.store.remove("pods", namespace, pod["metadata"]["name"])
                self.events.record(
                    rs,
                    "Normal",
                    "SuccessfulDelete",
                    f"Deleted pod: {pod['metadata']['name']}",
                    "replicaset-controller",
                )

    def _deletion_rank(self, pod: Obj) -> tuple[int, int, int, float]:
        """controller.ActivePods ordering: unscheduled, pending, not ready, more restarts, newer first."""
        status = pod.get("status", {})
        restarts = sum(int(c.get("restartCount", 0)) for c in status.get("containerStatuses") or [])
        runtime = self.runtime.get(pod["metadata"]["uid"])
        created = runtime.scheduled_at if runtime else 0.0
        return (
            0 if not pod["spec"].get("nodeName") else 1,
            0 if status.get("phase") == "Pending" else 1,
            1 if is_ready(pod) else 0,
            -restarts * 1_000_000 - created,
        )

    def _create_pod(self, rs: Obj) -> Obj:
        meta = rs["metadata"]
        template = clone(rs["spec"]["template"])
        generate_name = f"{meta['name']}-"
        name = generate_name + self._random_suffix()
        while self.store.get("pods", meta["namespace"], name) is not None:
            name = generate_name + self._random_suffix()
        pod_spec = template.get("spec", {})
        pod_spec.setdefault("serviceAccountName", "default")
        pod_spec.setdefault("serviceAccount", pod_spec["serviceAccountName"])
        pod_spec.setdefault("enableServiceLinks", True)
        pod_spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        pod_spec.setdefault("priority", 0)
        pod: Obj = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "generateName": generate_name,
                "namespace": meta["namespace"],
                "labels": dict(template.get("metadata", {}).get("labels") or {}),
                "ownerReferences": [owner_reference(rs)],
            },
            "spec": pod_spec,
            "status": {"phase": "Pending", "qosClass": pod_qos_class(pod_spec)},
        }
        annotations = template.get("metadata", {}).get("annotations")
        if annotations:
            pod["metadata"]["annotations"] = dict(annotations)
        created = self.store.create("pods", pod)
        self.events.record(rs, "Normal", "SuccessfulCreate", f"Created pod: {name}", "replicaset-controller")
        return created

    def _sync_replicaset_status(self, rs: Obj) -> None:
        namespace = rs["metadata"]["namespace"]
        pods = [p for p in self.owned("pods", namespace, rs["metadata"]["uid"]) if is_active(p)]
        ready = sum(1 for p in pods if is_ready(p))
        selector = selector_from_spec(rs["spec"].get("selector"))
        labeled = sum(1 for p in pods if labels_match(selector, p["metadata"].get("labels")))
        status: Obj = {"replicas": len(pods), "observedGeneration": int(rs["metadata"].get("generation", 1))}
        for key, value in (
            ("fullyLabeledReplicas", labeled),
            ("readyReplicas", ready),
            ("availableReplicas", ready),
        ):
            if value:
                status[key] = value
        if rs.get("status") != status:
            updated = clone(rs)
            updated["status"] = status
            self.store.put("replicasets", updated)

    # ------------------------------------------------------------------ pods (scheduler + kubelet)
    def _sync_pod(self, pod: Obj, now: float) -> None:
        if not is_active(pod):
            return
        meta = pod["metadata"]
        uid = meta["uid"]
        node_name = pod["spec"].get("nodeName")
        runtime = self.runtime.get(uid)
        if runtime is None and node_name:
            runtime = self.runtime[uid] = PodRuntime(scheduled_at=self._start_time(now), pod_ip=_pod_ip(uid))
        if not node_name:
            node = self._pick_node()
            if node is None:
                self._mark_unschedulable(pod, now)
                return
            updated = clone(pod)
            updated["spec"]["nodeName"] = node["metadata"]["name"]
            self.store.put("pods", updated)
            self.runtime[uid] = PodRuntime(scheduled_at=self._start_time(now), pod_ip=_pod_ip(uid))
            self.events.record(
                updated,
                "Normal",
                "Scheduled",
                f"Successfully assigned {meta['namespace']}/{meta['name']} to {node['metadata']['name']}",
                "default-scheduler",
            )
            return
        assert runtime is not None
        node = self.store.get("nodes", "", node_name)
        status = self._pod_status(pod, runtime, node, now)
        if pod.get("status") != status:
            updated = clone(pod)
            updated["status"] = status
            self.store.put("pods", updated)

    def _start_time(self, now: float) -> float:
        return now - self.settings.ready_delay_seconds if self.settling else now

    def _mark_unschedulable(self, pod: Obj, now: float) -> None:
        total = len(self.store.select("nodes"))
        message = (
            f"0/{total} nodes are available: {total} node(s) were unschedulable or not ready. "
            "preemption: 0/{total} nodes are available."
        ).replace("{total}", str(total))
        old = {c["type"]: c for c in pod.get("status", {}).get("conditions") or []}.get("PodScheduled")
        condition = {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "message": message,
            "lastProbeTime": None,
            "lastTransitionTime": old["lastTransitionTime"] if old else rfc3339(now),
        }
        status = {"phase": "Pending", "conditions": [condition], "qosClass": pod_qos_class(pod["spec"])}
        if pod.get("status") != status:
            updated = clone(pod)
            updated["status"] = status
            self.store.put("pods", updated)

    def memory_need(self, pod: Obj, container: str) -> float | None:
        dep = self.owning_deployment(pod)
        if dep is None:
            return None
        return self.faults.memory_need.get((pod["metadata"]["namespace"], dep["metadata"]["name"], container))

    def restart_count(self, runtime: ContainerRuntime, now: float) -> int:
        if runtime.crash_reason is None:
            return runtime.restarts_before
        cycles = int((now - runtime.crash_since) / self.settings.crash_restart_interval_seconds)
        return runtime.restarts_before + 1 + cycles

    def _pod_status(self, pod: Obj, runtime: PodRuntime, node: Obj | None, now: float) -> Obj:
        meta = pod["metadata"]
        node_ready = node_is_ready(node)
        statuses: list[Obj] = []
        unready: list[str] = []
        for container in pod["spec"].get("containers") or []:
            name = container["name"]
            ctr = runtime.containers.get(name)
            if ctr is None:
                ctr = runtime.containers[name] = ContainerRuntime(started_at=runtime.scheduled_at)
            reason = self.faults.crash_reason(
                meta["uid"],
                name,
                str(container.get("image", "")),
                container_limit(container, "memory"),
                self.memory_need(pod, name),
            )
            statuses.append(self._container_status(pod, container, ctr, reason, now))
            if not statuses[-1]["ready"]:
                unready.append(name)
        containers_ready = not unready
        pod_ready = containers_ready and node_ready
        started = rfc3339(runtime.scheduled_at)
        old = {c["type"]: c for c in pod.get("status", {}).get("conditions") or []}

        def condition(kind: str, ok: bool, reason: str | None = None, message: str | None = None) -> Obj:
            value = "True" if ok else "False"
            previous = old.get(kind)
            stamp = previous["lastTransitionTime"] if previous and previous.get("status") == value else rfc3339(now)
            body: Obj = {"type": kind, "status": value, "lastProbeTime": None, "lastTransitionTime": stamp}
            if not ok and reason:
                body["reason"], body["message"] = reason, message
            return body

        not_ready_message = f"containers with unready status: [{' '.join(unready)}]"
        conditions = [
            condition("PodReadyToStartContainers", True),
            condition("Initialized", True),
            condition(
                "Ready",
                pod_ready,
                "ContainersNotReady" if not containers_ready else "NodeNotReady",
                not_ready_message if not containers_ready else f"node {node_name(node)} is not ready",
            ),
            condition("ContainersReady", containers_ready, "ContainersNotReady", not_ready_message),
            condition("PodScheduled", True),
        ]
        node_ip = _node_ip(node)
        return {
            "phase": "Running",
            "conditions": conditions,
            "hostIP": node_ip,
            "hostIPs": [{"ip": node_ip}],
            "podIP": runtime.pod_ip,
            "podIPs": [{"ip": runtime.pod_ip}],
            "startTime": started,
            "containerStatuses": statuses,
            "qosClass": pod_qos_class(pod["spec"]),
        }

    def _container_status(self, pod: Obj, container: Obj, ctr: ContainerRuntime, reason: str | None, now: float) -> Obj:
        name = container["name"]
        image = str(container.get("image", ""))
        if reason is not None and ctr.crash_reason is None:
            ctr.crash_reason, ctr.crash_since = reason, now
        elif reason is not None and reason != ctr.crash_reason:
            ctr.restarts_before = self.restart_count(ctr, now)
            ctr.crash_reason, ctr.crash_since = reason, now
        elif reason is None and ctr.crash_reason is not None:
            restarts = self.restart_count(ctr, now)
            ctr.last_termination = self._terminated(ctr, now, restarts)
            ctr.restarts_before, ctr.crash_reason, ctr.started_at = restarts, None, now
        restarts = self.restart_count(ctr, now)
        status: Obj = {
            "name": name,
            "image": image,
            "imageID": _image_id(image),
            "containerID": _container_id(pod["metadata"]["uid"], name, restarts),
            "restartCount": restarts,
        }
        if ctr.crash_reason is not None:
            backoff = min(300, 10 * 2 ** max(0, restarts - 1))
            status.update(
                ready=False,
                started=False,
                state={
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": f"back-off {backoff}s restarting failed container={name} "
                        f"pod={pod['metadata']['name']}_{pod['metadata']['namespace']}({pod['metadata']['uid']})",
                    }
                },
                lastState={"terminated": self._terminated(ctr, now, restarts)},
            )
            if restarts > ctr.noted_restarts:
                ctr.noted_restarts = restarts
                self._note_backoff(pod, name)
            self._due(ctr.crash_since + (restarts - ctr.restarts_before) * self.settings.crash_restart_interval_seconds)
        else:
            ready_at = ctr.started_at + self.settings.ready_delay_seconds
            ready = now >= ready_at
            if not ready:
                self._due(ready_at)
            status.update(
                ready=ready,
                started=True,
                state={"running": {"startedAt": rfc3339(ctr.started_at)}},
                lastState={"terminated": ctr.last_termination} if ctr.last_termination else {},
            )
        return status

    def _terminated(self, ctr: ContainerRuntime, now: float, restarts: int) -> Obj:
        interval = self.settings.crash_restart_interval_seconds
        finished = ctr.crash_since + max(0, restarts - ctr.restarts_before - 1) * interval
        finished = min(finished, now)
        oom = ctr.crash_reason == CRASH_OOM
        return {
            "exitCode": 137 if oom else 1,
            "reason": "OOMKilled" if oom else "Error",
            "startedAt": rfc3339(max(ctr.started_at, finished - interval / 2)),
            "finishedAt": rfc3339(finished),
            "containerID": "containerd://" + hashlib.sha256(f"{finished}".encode()).hexdigest(),
        }

    def _note_backoff(self, pod: Obj, container: str) -> None:
        self.events.record(
            pod,
            "Warning",
            "BackOff",
            f"Back-off restarting failed container {container} in pod "
            f"{pod['metadata']['name']}_{pod['metadata']['namespace']}({pod['metadata']['uid']})",
            "kubelet",
        )

    # ------------------------------------------------------------------ disruption budgets
    def pdb_numbers(self, pdb: Obj) -> tuple[int, int, int, list[Obj]]:
        """(expectedPods, desiredHealthy, currentHealthy, matching pods), as the disruption controller."""
        namespace = pdb["metadata"]["namespace"]
        spec = pdb.get("spec", {})
        selector = selector_from_spec(spec.get("selector"))
        pods = [
            p
            for p in self.store.select("pods", namespace)
            if is_active(p) and selector and labels_match(selector, p["metadata"].get("labels"))
        ]
        healthy = sum(1 for p in pods if is_ready(p))
        min_available, max_unavailable = spec.get("minAvailable"), spec.get("maxUnavailable")
        if isinstance(min_available, int):
            expected = len(pods)
            desired = min_available
        else:
            expected = self._expected_scale(pods)
            if min_available is not None:
                desired = scaled_value(min_available, expected, round_up=True)
            elif max_unavailable is not None:
                desired = max(0, expected - scaled_value(max_unavailable, expected, round_up=True))
            else:
                desired = expected
        return expected, desired, healthy, pods

    def _expected_scale(self, pods: list[Obj]) -> int:
        seen: set[str] = set()
        total = 0
        for pod in pods:
            dep = self.owning_deployment(pod)
            if dep is None:
                total += 1
            elif dep["metadata"]["uid"] not in seen:
                seen.add(dep["metadata"]["uid"])
                total += int(dep["spec"].get("replicas", 1))
        return total

    def _sync_pdb(self, pdb: Obj) -> None:
        expected, desired, healthy, _ = self.pdb_numbers(pdb)
        allowed = max(0, healthy - desired)
        now = self.store.clock.now()
        old = {c["type"]: c for c in pdb.get("status", {}).get("conditions") or []}.get("DisruptionAllowed")
        value = "True" if allowed > 0 else "False"
        status = {
            "observedGeneration": int(pdb["metadata"].get("generation", 1)),
            "expectedPods": expected,
            "desiredHealthy": desired,
            "currentHealthy": healthy,
            "disruptionsAllowed": allowed,
            "conditions": [
                {
                    "type": "DisruptionAllowed",
                    "status": value,
                    "reason": "SufficientPods" if allowed > 0 else "InsufficientPods",
                    "message": "",
                    "observedGeneration": int(pdb["metadata"].get("generation", 1)),
                    "lastTransitionTime": old["lastTransitionTime"]
                    if old and old.get("status") == value
                    else rfc3339(now),
                }
            ],
        }
        if pdb.get("status") != status:
            updated = clone(pdb)
            updated["status"] = status
            self.store.put("poddisruptionbudgets", updated)


def _pod_ip(uid: str) -> str:
    digest = hashlib.sha256(uid.encode()).digest()
    return f"10.{100 + digest[0] % 20}.{digest[1]}.{2 + digest[2] % 250}"


@functools.lru_cache(maxsize=1024)
def _image_id(image: str) -> str:
    return f"{image.split(':')[0]}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"


@functools.lru_cache(maxsize=8192)
def _container_id(pod_uid: str, container: str, restarts: int) -> str:
    return "containerd://" + hashlib.sha256(f"{pod_uid}/{container}/{restarts}".encode()).hexdigest()


def node_name(node: Obj | None) -> str:
    return node["metadata"]["name"] if node else ""


def _node_ip(node: Obj | None) -> str:
    for address in (node or {}).get("status", {}).get("addresses") or []:
        if address.get("type") == "InternalIP":
            return str(address.get("address"))
    return "10.128.0.2"
