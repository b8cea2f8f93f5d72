"""The deployment controller: ReplicaSets per pod template, rolling updates, revisions, status."""

from __future__ import annotations

import math

from kube_standin.controller_base import ControllerBase, Obj, is_active, is_ready
from kube_standin.objects import (
    DESIRED_REPLICAS,
    MAX_REPLICAS,
    POD_TEMPLATE_HASH,
    REVISION,
    REVISION_HISTORY,
    SKIP_COPY_ANNOTATIONS,
    owner_reference,
    pod_template_hash,
    revision_of,
    scaled_value,
    templates_equal,
)
from kube_standin.store import clone


class DeploymentController(ControllerBase):
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
                old,
                "Progressing",
                now,
                "True",
                "NewReplicaSetAvailable",
                f'ReplicaSet "{rs_name}" has successfully progressed.',
                update=previous is None or previous[0] != signature,
            )
        deadline = spec.get("progressDeadlineSeconds")
        if deadline is not None and now - last_progress > float(deadline):
            return self._condition(
                old,
                "Progressing",
                now,
                "False",
                "ProgressDeadlineExceeded",
                f'ReplicaSet "{rs_name}" has timed out progressing.',
            )
        if deadline is not None:
            self._due(math.nextafter(last_progress + float(deadline), math.inf))
        return self._condition(
            old,
            "Progressing",
            now,
            "True",
            "ReplicaSetUpdated",
            f'ReplicaSet "{rs_name}" is progressing.',
            update=previous is None or previous[0] != signature,
        )
