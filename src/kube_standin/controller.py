"""An in-process, deterministic stand-in for the deployment, replicaset, scheduler, kubelet,
node-lifecycle and disruption controllers.

`sync()` brings every object up to date with the clock: it is run before each API request and by
a background ticker, and it loops until nothing changes, so with a zero readiness delay a whole
rolling update completes within one call.
"""

from __future__ import annotations

import math

from kube_standin.controller_base import (
    ContainerRuntime,
    PodRuntime,
    SimulationSettings,
    container_limit,
    container_request,
    is_active,
    is_ready,
    node_is_ready,
    pod_requests,
)
from kube_standin.deployment_controller import DeploymentController
from kube_standin.disruption_controller import DisruptionController
from kube_standin.kubelet import Kubelet
from kube_standin.replicaset_controller import ReplicaSetController

__all__ = [
    "ContainerRuntime",
    "Controller",
    "PodRuntime",
    "SimulationSettings",
    "container_limit",
    "container_request",
    "is_active",
    "is_ready",
    "node_is_ready",
]
MAX_SYNC_ROUNDS = 200


class Controller(DeploymentController, ReplicaSetController, Kubelet, DisruptionController):
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

    def _sync_round(self, now: float) -> None:
        for node in self.store.select("nodes"):
            self._sync_node(node)
        for dep in self.store.select("deployments"):
            self._sync_deployment(dep, now)
        for rs in self.store.select("replicasets"):
            self._sync_replicaset_pods(rs)
        pods = self.store.select("pods")
        self._node_load, self._node_requests = {}, {}
        for pod in pods:
            node = pod["spec"].get("nodeName")
            if node and is_active(pod):
                self._node_load[node] = self._node_load.get(node, 0) + 1
                cpu, memory = pod_requests(pod)
                used_cpu, used_memory = self._node_requests.get(node, (0.0, 0.0))
                self._node_requests[node] = (used_cpu + cpu, used_memory + memory)
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
