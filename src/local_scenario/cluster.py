"""The stand-in cluster, in process: one store and controller behind two API front ends.

The healer's front end is served over HTTP on loopback and records every request it answers
(that record is what the scenario checks for mutations). The operator's front end (setup,
the bad rollout) is called in process and keeps its own record, so it never mixes with the
healer's calls.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kube_standin.api import KubeApi, Request
from kube_standin.clock import SystemClock, rfc3339
from kube_standin.controller import Controller, SimulationSettings
from kube_standin.faults import FaultRegistry
from kube_standin.request_log import RecordedRequest, RequestLog
from kube_standin.server import LoopbackServer
from kube_standin.store import Store
from kube_standin.usage import cluster_usage
from local_scenario.sample_app import NAMESPACES, NODES, WORKLOADS, deployment_manifest, namespace_manifest, node_object

Obj = dict[str, Any]


class ClusterError(RuntimeError):
    """The stand-in refused an operator request."""


@dataclass(frozen=True)
class PodRef:
    namespace: str
    name: str
    uid: str
    deployment: str


class StandinCluster:
    def __init__(self, *, ready_delay_seconds: float, crash_restart_interval_seconds: float, seed: int = 7) -> None:
        self.store = Store(SystemClock(), random.Random(seed))
        self.faults = FaultRegistry()
        self.controller = Controller(
            self.store,
            self.faults,
            SimulationSettings(
                ready_delay_seconds=ready_delay_seconds,
                crash_restart_interval_seconds=crash_restart_interval_seconds,
            ),
        )
        self.healer_log = RequestLog()
        self.operator_log = RequestLog()
        self._server = LoopbackServer(self._handle_healer)
        self._healer_api = KubeApi(self.controller, self.healer_log, lambda: self.url)
        self._operator_api = KubeApi(self.controller, self.operator_log, lambda: self.url)

    def _handle_healer(self, request: Request) -> Any:
        return self._healer_api.handle(request)

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}"

    def start(self) -> StandinCluster:
        self._server.start()
        return self

    def stop(self) -> None:
        self.store.close()
        self._server.stop()

    # ------------------------------------------------------------------ operator calls
    def operator(self, method: str, path: str, body: Obj | list[Any] | None = None, content_type: str = "") -> Obj:
        headers = {"Content-Type": content_type or "application/json"} if body is not None else {}
        raw = json.dumps(body).encode() if body is not None else b""
        response = self._operator_api.handle(Request(method=method, path=path, headers=headers, body=raw))
        payload = json.loads(response.body or b"{}")
        if response.status >= 300:
            raise ClusterError(f"{method} {path}: {response.status} {payload.get('message', '')}")
        return dict(payload)

    def seed_sample_app(self) -> None:
        with self.store.lock:
            now = rfc3339(self.store.clock.now())
            for node in NODES:
                if self.store.get("nodes", "", node) is None:
                    self.store.create("nodes", node_object(node, now))
        for namespace in NAMESPACES:
            self.operator("POST", "/api/v1/namespaces", namespace_manifest(namespace))
        for workload in WORKLOADS:
            self.operator(
                "POST", f"/apis/apps/v1/namespaces/{workload.namespace}/deployments", deployment_manifest(workload)
            )

    def write_kubeconfig(self, path: Path) -> Path:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "standin", "cluster": {"server": self.url}}],
            "users": [{"name": "healer", "user": {"token": "local-standin"}}],
            "contexts": [{"name": "standin", "context": {"cluster": "standin", "user": "healer"}}],
            "current-context": "standin",
        }
        path.write_text(json.dumps(config, indent=2), encoding="utf-8")
        return path

    # ------------------------------------------------------------------ reading state
    def usage(self) -> Obj:
        return cluster_usage(self.controller)

    def pods_of(self, namespace: str, deployment: str) -> list[PodRef]:
        return [
            PodRef(p["namespace"], p["pod"], p["uid"], p["deployment"])
            for p in self.usage()["pods"]
            if p["namespace"] == namespace and p["deployment"] == deployment
        ]

    def deployment(self, namespace: str, name: str) -> Obj:
        return self.operator("GET", f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}")

    def workload_healthy(self, namespace: str, name: str) -> bool:
        """Every wanted replica is up to date, ready and free of any injected fault."""
        dep = self.deployment(namespace, name)
        spec, status = dep.get("spec") or {}, dep.get("status") or {}
        wanted = int(spec.get("replicas", 1))
        images = {c.get("image") for c in spec["template"]["spec"]["containers"]}
        if images & self.faults.bad_images:
            return False
        if int(dep["metadata"].get("generation", 0)) > int(status.get("observedGeneration", 0)):
            return False
        if not (
            int(status.get("updatedReplicas", 0)) == wanted
            and int(status.get("readyReplicas", 0)) == wanted
            and int(status.get("replicas", 0)) == wanted
        ):
            return False
        pods = [p for p in self.usage()["pods"] if p["namespace"] == namespace and p["deployment"] == name]
        return len(pods) == wanted and all(p["ready"] and not any(c["faults"] for c in p["containers"]) for p in pods)

    def iter_healer_mutations(self) -> Iterator[RecordedRequest]:
        yield from self.healer_log.mutating()

    # ------------------------------------------------------------------ faults
    def inject_cpu_hog(self, pod: PodRef) -> None:
        with self.store.lock:
            self.faults.cpu_hog[pod.uid] = ""

    def inject_crash_loop(self, pod: PodRef) -> None:
        with self.store.lock:
            self.faults.crash_loop[pod.uid] = ""

    def inject_bad_rollout(self, namespace: str, name: str, bad_image: str) -> None:
        with self.store.lock:
            self.faults.bad_images.add(bad_image)
        dep = self.deployment(namespace, name)
        container = dep["spec"]["template"]["spec"]["containers"][0]["name"]
        patch = {"spec": {"template": {"spec": {"containers": [{"name": container, "image": bad_image}]}}}}
        self.operator(
            "PATCH",
            f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}",
            patch,
            "application/strategic-merge-patch+json",
        )

    def clear_pod_faults(self, namespace: str, name: str) -> None:
        with self.store.lock:
            for pod in self.pods_of(namespace, name):
                self.faults.forget_pod(pod.uid)
