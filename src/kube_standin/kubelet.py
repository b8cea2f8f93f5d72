"""Scheduler, node lifecycle and kubelet: node taints, placement, and pod and container status."""

from __future__ import annotations

import functools
import hashlib

from kube_standin.clock import parse_rfc3339, rfc3339
from kube_standin.controller_base import (
    ContainerRuntime,
    ControllerBase,
    Obj,
    PodRuntime,
    container_limit,
    is_terminal,
    node_is_ready,
    pod_requests,
)
from kube_standin.faults import CRASH_OOM
from kube_standin.objects import pod_qos_class
from kube_standin.quantity import parse_quantity
from kube_standin.store import clone


class Kubelet(ControllerBase):
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

    def _pick_node(self, pod: Obj) -> tuple[Obj | None, str]:
        """The schedulable Ready node (where the pod's requests fit, if checked) with the fewest active
        pods, ties by name; or None and the scheduler's explanation."""
        all_nodes = self.store.select("nodes")
        unschedulable = sum(1 for n in all_nodes if n["spec"].get("unschedulable"))
        not_ready = sum(1 for n in all_nodes if not n["spec"].get("unschedulable") and not node_is_ready(n))
        nodes = [n for n in all_nodes if not n["spec"].get("unschedulable") and node_is_ready(n)]
        reasons: dict[str, int] = {}
        if self.settings.schedule_by_requests:
            cpu, memory = pod_requests(pod)
            fitting = []
            for node in nodes:
                allocatable = node.get("status", {}).get("allocatable") or {}
                used_cpu, used_memory = self._node_requests.get(node["metadata"]["name"], (0.0, 0.0))
                short = [
                    resource
                    for resource, used, wanted in (("cpu", used_cpu, cpu), ("memory", used_memory, memory))
                    if used + wanted > parse_quantity(allocatable.get(resource, "0"))
                ]
                for resource in short:
                    reasons[f"Insufficient {resource}"] = reasons.get(f"Insufficient {resource}", 0) + 1
                if not short:
                    fitting.append(node)
            nodes = fitting
        if not nodes:
            parts = [f"{count} {reason}" for reason, count in sorted(reasons.items())]
            if unschedulable:
                parts.append(f"{unschedulable} node(s) were unschedulable")
            if not_ready:
                parts.append(f"{not_ready} node(s) had untolerated taint {{node.kubernetes.io/not-ready: }}")
            total = len(all_nodes)
            return None, (
                f"0/{total} nodes are available: {', '.join(parts) or 'no nodes available to schedule pods'}. "
                f"preemption: 0/{total} nodes are available: {total} No preemption victims found for incoming pod."
            )
        chosen = min(nodes, key=lambda n: (self._node_load.get(n["metadata"]["name"], 0), n["metadata"]["name"]))
        name = chosen["metadata"]["name"]
        self._node_load[name] = self._node_load.get(name, 0) + 1
        cpu, memory = pod_requests(pod)
        used_cpu, used_memory = self._node_requests.get(name, (0.0, 0.0))
        self._node_requests[name] = (used_cpu + cpu, used_memory + memory)
        return chosen, ""

    # ------------------------------------------------------------------ pods (scheduler + kubelet)
    def _sync_pod(self, pod: Obj, now: float) -> None:
        if is_terminal(pod):
            return
        meta = pod["metadata"]
        uid = meta["uid"]
        if meta.get("deletionTimestamp"):
            self._sync_terminating(pod, now)
            return
        node_name = pod["spec"].get("nodeName")
        runtime = self.runtime.get(uid)
        if runtime is None and node_name:
            runtime = self.runtime[uid] = PodRuntime(scheduled_at=self._start_time(now), pod_ip=_pod_ip(uid))
        if not node_name:
            node, why = self._pick_node(pod)
            if node is None:
                self._mark_unschedulable(pod, now, why)
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
        if self._evict_from_unready_node(pod, node, now):
            return
        status = self._pod_status(pod, runtime, node, now)
        if pod.get("status") != status:
            updated = clone(pod)
            updated["status"] = status
            self.store.put("pods", updated)

    def _evict_from_unready_node(self, pod: Obj, node: Obj | None, now: float) -> bool:
        """Taint-based eviction: pods tolerate a NotReady node for not_ready_eviction_seconds."""
        ready = next(
            (c for c in (node or {}).get("status", {}).get("conditions") or [] if c.get("type") == "Ready"), None
        )
        if node is None or ready is None or ready.get("status") == "True" or not pod["metadata"].get("ownerReferences"):
            return False
        since = parse_rfc3339(ready["lastTransitionTime"]) if ready.get("lastTransitionTime") else now
        evict_at = since + self.settings.not_ready_eviction_seconds
        if now < evict_at:
            self._due(evict_at)
            return False
        meta = pod["metadata"]
        self.events.record(
            pod,
            "Normal",
            "TaintManagerEviction",
            f"Marking for deletion Pod {meta['namespace']}/{meta['name']}",
            "taint-eviction-controller",
        )
        self.terminate_pod(pod)
        return True

    def _sync_terminating(self, pod: Obj, now: float) -> None:
        meta = pod["metadata"]
        runtime = self.runtime.get(meta["uid"])
        ends = runtime.terminate_at if runtime and runtime.terminate_at else parse_rfc3339(meta["deletionTimestamp"])
        if runtime is None or now >= ends:
            self.store.remove("pods", meta["namespace"], meta["name"])
            return
        self._due(ends)
        status = self._pod_status(pod, runtime, self.store.get("nodes", "", pod["spec"].get("nodeName", "")), now)
        for container in status["containerStatuses"]:
            container["ready"] = False
        for condition in status["conditions"]:
            if condition["type"] in ("Ready", "ContainersReady") and condition["status"] == "True":
                condition.update(status="False", lastTransitionTime=rfc3339(now))
        previous = {c["type"]: c for c in pod.get("status", {}).get("conditions") or []}
        for condition in status["conditions"]:
            old = previous.get(condition["type"])
            if old is not None and old.get("status") == condition["status"]:
                condition["lastTransitionTime"] = old["lastTransitionTime"]
        if pod.get("status") != status:
            updated = clone(pod)
            updated["status"] = status
            self.store.put("pods", updated)

    def _mark_unschedulable(self, pod: Obj, now: float, message: str) -> None:
        old = {c["type"]: c for c in pod.get("status", {}).get("conditions") or []}.get("PodScheduled")
        if old is None or old.get("message") != message:
            self.events.record(pod, "Warning", "FailedScheduling", message, "default-scheduler")
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
        return runtime.restarts_before + self.crash_schedule(runtime, now).crashes

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
            image = str(container.get("image", ""))
            if image in self.faults.unpullable_images:
                statuses.append(self._pull_failure_status(pod, container, ctr, now))
                unready.append(name)
                continue
            if ctr.pulling_since is not None:  # the image became available: the container starts now
                ctr.pulling_since, ctr.started_at, ctr.noted_restarts = None, now, ctr.restarts_before
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
        pulling = any(c.pulling_since is not None for c in runtime.containers.values())
        return {
            "phase": "Pending" if pulling else "Running",
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
            ctr.last_termination = self._terminated(ctr, now)
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
            schedule = self.crash_schedule(ctr, now)
            backoff = max(1, round(schedule.delay))
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
                lastState={"terminated": self._terminated(ctr, now)},
            )
            if restarts > ctr.noted_restarts:
                ctr.noted_restarts = restarts
                self._note_backoff(pod, name)
            self._due(ctr.crash_since + schedule.next)
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

    def _pull_failure_status(self, pod: Obj, container: Obj, ctr: ContainerRuntime, now: float) -> Obj:
        """ErrImagePull, then ImagePullBackOff, as the kubelet reports an image the registry does not have."""
        image = str(container.get("image", ""))
        if ctr.pulling_since is None:
            ctr.pulling_since = now
            self.events.record(pod, "Normal", "Pulling", f'Pulling image "{image}"', "kubelet")
            self.events.record(
                pod,
                "Warning",
                "Failed",
                f'Failed to pull image "{image}": rpc error: code = NotFound desc = failed to pull and unpack '
                f'image "{image}": failed to resolve reference "{image}": {image}: not found',
                "kubelet",
            )
        interval = self.settings.crash_restart_interval_seconds
        attempt = int((now - ctr.pulling_since) / interval)  # pull retries so far
        self._due(ctr.pulling_since + (attempt + 1) * interval)
        if attempt == 0:
            waiting = {"reason": "ErrImagePull", "message": f'failed to pull and unpack image "{image}": not found'}
        else:
            waiting = {"reason": "ImagePullBackOff", "message": f'Back-off pulling image "{image}"'}
            if attempt > ctr.noted_restarts:
                ctr.noted_restarts = attempt
                self.events.record(pod, "Normal", "BackOff", f'Back-off pulling image "{image}"', "kubelet")
        return {
            "name": container["name"],
            "image": image,
            "imageID": "",
            "ready": False,
            "started": False,
            "restartCount": ctr.restarts_before,
            "state": {"waiting": waiting},
            "lastState": {},
        }

    def _terminated(self, ctr: ContainerRuntime, now: float) -> Obj:
        interval = self.settings.crash_restart_interval_seconds
        finished = min(now, ctr.crash_since + self.crash_schedule(ctr, now).last)
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
