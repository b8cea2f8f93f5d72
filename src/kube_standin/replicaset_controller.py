"""The replicaset controller: keeps the number of pods, names them, reports status."""

from __future__ import annotations

from kube_standin.controller_base import ControllerBase, Obj, is_active, is_ready
from kube_standin.objects import owner_reference, pod_qos_class
from kube_standin.selectors import labels_match, selector_from_spec
from kube_standin.store import clone


class ReplicaSetController(ControllerBase):
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
                self.terminate_pod(pod)
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
