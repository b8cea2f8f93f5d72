"""Injecting and clearing faults: the operations behind the control API and StandinCluster methods."""

from __future__ import annotations

from typing import Any

from kube_standin.clock import rfc3339
from kube_standin.controller import Controller, container_limit, is_active
from kube_standin.finished_jobs import FinishedJob, job_object, job_pod
from kube_standin.quantity import format_memory, parse_quantity
from kube_standin.store import clone

Obj = dict[str, Any]
EVICTED_MESSAGE = (
    "The node was low on resource: memory. Threshold quantity: 100Mi, available: 61244Ki. "
    "Container {container} was using 1843512Ki, request is 256Mi, has larger consumption of memory."
)


BAD_ROLLOUT_MODES = ("crash", "image-pull")


class FaultError(ValueError):
    """A fault request that names something missing or is malformed (answered as 400/404)."""

    def __init__(self, message: str, not_found: bool = False) -> None:
        super().__init__(message)
        self.not_found = not_found


class FaultInjector:
    def __init__(self, controller: Controller) -> None:
        self.controller = controller
        self.store = controller.store
        self.faults = controller.faults

    # ------------------------------------------------------------------ lookups
    def _deployment(self, namespace: str, name: str) -> Obj:
        dep = self.store.get("deployments", namespace, name)
        if dep is None:
            raise FaultError(f'deployment "{namespace}/{name}" not found', not_found=True)
        return dep

    def _pod(self, namespace: str, pod: str | None, deployment: str | None) -> Obj:
        """The named pod, or the first (by name) running pod of the named deployment."""
        self.controller.sync(force=True)
        if pod:
            found = self.store.get("pods", namespace, pod)
            if found is None:
                raise FaultError(f'pod "{namespace}/{pod}" not found', not_found=True)
            return found
        if not deployment:
            raise FaultError("name either a pod or a deployment")
        dep = self._deployment(namespace, deployment)
        pods = self._deployment_pods(dep)
        if not pods:
            raise FaultError(f'deployment "{namespace}/{deployment}" has no running pods', not_found=True)
        return pods[0]

    def _deployment_pods(self, dep: Obj) -> list[Obj]:
        namespace, uid = dep["metadata"]["namespace"], dep["metadata"]["uid"]
        rs_uids = {rs["metadata"]["uid"] for rs in self.controller.owned("replicasets", namespace, uid)}
        return [
            p
            for p in self.store.select("pods", namespace)
            if is_active(p) and any(r.get("uid") in rs_uids for r in p["metadata"].get("ownerReferences") or [])
        ]

    @staticmethod
    def _container(pod_or_template: Obj, container: str | None) -> Obj:
        containers = pod_or_template["spec"]["containers"]
        if not container:
            return containers[0]
        for candidate in containers:
            if candidate["name"] == container:
                return candidate
        names = ", ".join(c["name"] for c in containers)
        raise FaultError(f"no container {container!r}; containers are: {names}", not_found=True)

    # ------------------------------------------------------------------ pod faults
    def cpu_hog(
        self, namespace: str, pod: str | None = None, deployment: str | None = None, container: str | None = None
    ) -> Obj:
        with self.store.lock:
            target = self._pod(namespace, pod, deployment)
            name = self._container(target, container)["name"] if container else ""
            self.faults.cpu_hog[target["metadata"]["uid"]] = name
            self.controller.sync(force=True)
            return self._pod_ref(target, "cpu-hog", name)

    def crash_loop(
        self, namespace: str, pod: str | None = None, deployment: str | None = None, container: str | None = None
    ) -> Obj:
        with self.store.lock:
            target = self._pod(namespace, pod, deployment)
            name = self._container(target, container)["name"] if container else ""
            self.faults.crash_loop[target["metadata"]["uid"]] = name
            self.controller.sync(force=True)
            return self._pod_ref(target, "crash-loop", name)

    @staticmethod
    def _pod_ref(pod: Obj, fault: str, container: str) -> Obj:
        meta = pod["metadata"]
        return {
            "fault": fault,
            "namespace": meta["namespace"],
            "pod": meta["name"],
            "uid": meta["uid"],
            "container": container or None,
        }

    def clear_pod(self, namespace: str, pod: str) -> Obj:
        with self.store.lock:
            target = self._pod(namespace, pod, None)
            self.faults.forget_pod(target["metadata"]["uid"])
            self.controller.sync(force=True)
            return {"cleared": True, "namespace": namespace, "pod": pod}

    # ------------------------------------------------------------------ workload faults
    def bad_rollout(
        self,
        namespace: str,
        deployment: str,
        image: str | None = None,
        container: str | None = None,
        mode: str = "crash",
    ) -> Obj:
        """Roll the deployment to a broken release: an image whose containers crash on start (mode "crash"),
        or an image the registry does not have (mode "image-pull": ErrImagePull / ImagePullBackOff)."""
        if mode not in BAD_ROLLOUT_MODES:
            raise FaultError(f"mode must be one of {', '.join(BAD_ROLLOUT_MODES)}, not {mode!r}")
        with self.store.lock:
            dep = self._deployment(namespace, deployment)
            updated = clone(dep)
            target = self._container(updated["spec"]["template"], container)
            old_image = str(target.get("image", ""))
            if not image:
                base, sep, tag = old_image.rpartition(":")
                suffix = "bad" if mode == "crash" else "missing"
                image = f"{base}:{tag}-{suffix}" if sep and "/" not in tag else f"{old_image}:{suffix}"
            if image == old_image:
                raise FaultError("the bad image must differ from the current image")
            (self.faults.bad_images if mode == "crash" else self.faults.unpullable_images).add(image)
            target["image"] = image
            updated["metadata"]["generation"] = int(dep["metadata"].get("generation", 1)) + 1
            self.store.put("deployments", updated)
            self.controller.sync(force=True)
            return {
                "fault": "bad-rollout",
                "mode": mode,
                "namespace": namespace,
                "deployment": deployment,
                "container": target["name"],
                "previous_image": old_image,
                "bad_image": image,
            }

    def mark_image_bad(self, image: str, bad: bool = True) -> Obj:
        with self.store.lock:
            if bad:
                self.faults.bad_images.add(image)
            else:
                self.faults.bad_images.discard(image)
            self.controller.sync(force=True)
            return {"image": image, "bad": bad}

    def oom(
        self, namespace: str, deployment: str, container: str | None = None, memory: str | int | float | None = None
    ) -> Obj:
        """Make the container need more memory than its limit: it gets OOMKilled until the limit is raised."""
        with self.store.lock:
            dep = self._deployment(namespace, deployment)
            target = self._container(dep["spec"]["template"], container)
            limit = container_limit(target, "memory")
            if limit is None:
                raise FaultError(f"container {target['name']!r} has no memory limit, so it cannot be OOMKilled")
            try:
                need = parse_quantity(memory) if memory is not None else limit * 2
            except ValueError as exc:
                raise FaultError(str(exc)) from exc
            if need <= limit:
                raise FaultError(f"memory need {format_memory(need)} does not exceed the limit {format_memory(limit)}")
            self.faults.memory_need[(namespace, deployment, target["name"])] = need
            self.controller.sync(force=True)
            return {
                "fault": "oom",
                "namespace": namespace,
                "deployment": deployment,
                "container": target["name"],
                "memory_need": format_memory(need),
                "memory_limit": format_memory(limit),
            }

    def clear_oom(self, namespace: str, deployment: str, container: str | None = None) -> Obj:
        with self.store.lock:
            for key in [k for k in self.faults.memory_need if k[:2] == (namespace, deployment)]:
                if container in (None, key[2]):
                    del self.faults.memory_need[key]
            self.controller.sync(force=True)
            return {"cleared": True, "namespace": namespace, "deployment": deployment}

    # ------------------------------------------------------------------ nodes
    def set_node_ready(self, node: str, ready: bool) -> Obj:
        with self.store.lock:
            current = self.store.get("nodes", "", node)
            if current is None:
                raise FaultError(f'node "{node}" not found', not_found=True)
            now = rfc3339(self.store.clock.now())
            updated = clone(current)
            conditions = updated["status"].setdefault("conditions", [])
            ready_condition = next((c for c in conditions if c.get("type") == "Ready"), None)
            if ready_condition is None:
                ready_condition = {"type": "Ready"}
                conditions.append(ready_condition)
            was_ready = ready_condition.get("status") == "True"
            if ready:
                ready_condition.update(status="True", reason="KubeletReady", message="kubelet is posting ready status")
            else:
                ready_condition.update(
                    status="False",
                    reason="KubeletNotReady",
                    message="container runtime network not ready: NetworkReady=false "
                    "reason:NetworkPluginNotReady message:Network plugin returns error: "
                    "cni plugin not initialized",
                )
            ready_condition["lastHeartbeatTime"] = now
            if was_ready != ready:
                ready_condition["lastTransitionTime"] = now
            self.store.put("nodes", updated)
            self.controller.events.record(
                updated,
                "Normal",
                "NodeReady" if ready else "NodeNotReady",
                f"Node {node} status is now: {'NodeReady' if ready else 'NodeNotReady'}",
                "kubelet" if ready else "node-controller",
            )
            self.controller.sync(force=True)
            return {"node": node, "ready": ready}

    # ------------------------------------------------------------------ evictions and jobs
    def evict_pods(
        self,
        namespace: str,
        count: int = 1,
        deployment: str | None = None,
        node: str | None = None,
        name_prefix: str = "worker",
    ) -> Obj:
        """Mark running pods of a deployment as Evicted (its ReplicaSet replaces them), or add standalone
        Evicted pods when no deployment is named."""
        if count < 1:
            raise FaultError("count must be at least 1")
        with self.store.lock:
            self.controller.sync(force=True)
            now = self.store.clock.now()
            names: list[str] = []
            if deployment:
                pods = [
                    p
                    for p in self._deployment_pods(self._deployment(namespace, deployment))
                    if p["spec"].get("nodeName") and (node is None or p["spec"]["nodeName"] == node)
                ]
                if len(pods) < count:
                    raise FaultError(f"deployment {namespace}/{deployment} has only {len(pods)} running pods")
                for running in pods[:count]:
                    updated = clone(running)
                    updated["status"] = self._evicted_status(running, now)
                    self.store.put("pods", updated)
                    names.append(running["metadata"]["name"])
            else:
                if self.store.get("namespaces", "", namespace) is None:
                    raise FaultError(f'namespace "{namespace}" not found', not_found=True)
                node_name = node or next((n["metadata"]["name"] for n in self.store.select("nodes")), "")
                for _ in range(count):
                    name = f"{name_prefix}-{self.controller._random_suffix(10)}"
                    pod = {
                        "apiVersion": "v1",
                        "kind": "Pod",
                        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name_prefix}},
                        "spec": {
                            "nodeName": node_name,
                            "restartPolicy": "Always",
                            "containers": [{"name": name_prefix, "image": "busybox:1.36"}],
                        },
                    }
                    pod["status"] = self._evicted_status(pod, now)
                    self.store.create("pods", pod)
                    names.append(name)
            for name in names:
                evicted = self.store.get("pods", namespace, name)
                if evicted is not None:
                    self.controller.events.record(
                        evicted, "Warning", "Evicted", evicted["status"]["message"], "kubelet"
                    )
            self.controller.sync(force=True)
            return {"fault": "evicted-pods", "namespace": namespace, "pods": names}

    @staticmethod
    def _evicted_status(pod: Obj, now: float) -> Obj:
        container = pod["spec"]["containers"][0]["name"]
        return {
            "phase": "Failed",
            "reason": "Evicted",
            "message": EVICTED_MESSAGE.format(container=container),
            "startTime": pod.get("status", {}).get("startTime", rfc3339(now - 3600)),
            "containerStatuses": [
                {
                    "name": c["name"],
                    "image": c.get("image", ""),
                    "imageID": "",
                    "ready": False,
                    "restartCount": 0,
                    "started": False,
                    "state": {
                        "terminated": {
                            "exitCode": 137,
                            "reason": "ContainerStatusUnknown",
                            "message": "The container could not be located when the pod was terminated",
                            "startedAt": None,
                            "finishedAt": None,
                        }
                    },
                    "lastState": {},
                }
                for c in pod["spec"]["containers"]
            ],
        }

    def failed_job(
        self,
        namespace: str,
        name: str,
        image: str = "busybox:1.36",
        backoff_limit: int = 0,
        finished_seconds_ago: float = 0.0,
        duration_seconds: float = 30.0,
        labels: dict[str, str] | None = None,
        succeeded: bool = False,
    ) -> Obj:
        """A finished Job (Failed with BackoffLimitExceeded unless succeeded=True) with its pods."""
        with self.store.lock:
            if self.store.get("namespaces", "", namespace) is None:
                raise FaultError(f'namespace "{namespace}" not found', not_found=True)
            if self.store.get("jobs", namespace, name) is not None:
                raise FaultError(f'job "{namespace}/{name}" already exists')
            if backoff_limit < 0 or finished_seconds_ago < 0 or duration_seconds < 0:
                raise FaultError("backoff_limit, finished_seconds_ago and duration_seconds must be >= 0")
            finished = self.store.clock.now() - finished_seconds_ago
            spec = FinishedJob(
                namespace,
                name,
                self.store.new_uid(),
                image,
                finished - duration_seconds,
                finished,
                succeeded,
                backoff_limit,
                dict(labels or {}),
            )
            created = self.store.create("jobs", job_object(spec))
            node_name = next((n["metadata"]["name"] for n in self.store.select("nodes")), "")
            for _ in range(spec.attempts):
                self.store.create(
                    "pods", job_pod(spec, created, f"{name}-{self.controller._random_suffix()}", node_name)
                )
            if not succeeded:
                self.controller.events.record(
                    created,
                    "Warning",
                    "BackoffLimitExceeded",
                    "Job has reached the specified backoff limit",
                    "job-controller",
                )
            return {"fault": "failed-job" if not succeeded else "succeeded-job", "namespace": namespace, "job": name}

    def describe(self) -> Obj:
        with self.store.lock:
            described = self.faults.describe()
            pods_by_uid = {p["metadata"]["uid"]: p["metadata"] for p in self.store.select("pods")}

            def pod_names(uids: list[str]) -> list[Obj]:
                return [
                    {"namespace": pods_by_uid[u]["namespace"], "pod": pods_by_uid[u]["name"], "uid": u}
                    for u in uids
                    if u in pods_by_uid
                ]

            not_ready = [
                n["metadata"]["name"]
                for n in self.store.select("nodes")
                if not any(
                    c.get("type") == "Ready" and c.get("status") == "True" for c in n["status"].get("conditions") or []
                )
            ]
            return {
                "cpu_hog": pod_names(described["cpu_hog_pod_uids"]),
                "crash_loop": pod_names(described["crash_loop_pod_uids"]),
                "bad_images": described["bad_images"],
                "memory_needs": described["memory_needs"],
                "not_ready_nodes": not_ready,
            }
