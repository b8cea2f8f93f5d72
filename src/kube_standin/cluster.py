"""StandinCluster: the stand-in Kubernetes API server as a Python object.

with StandinCluster(fixture="cluster.yaml") as cluster:
    cfg = kubernetes.client.Configuration(host=cluster.url)
    ...
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

from kube_standin.api import KubeApi, Request, Response
from kube_standin.clock import Clock, SystemClock
from kube_standin.control_api import ControlApi
from kube_standin.controller import Controller, SimulationSettings
from kube_standin.fault_ops import FaultInjector
from kube_standin.faults import FaultRegistry
from kube_standin.fixture import load_fixture
from kube_standin.kubeconfig import kubeconfig_dict, write_kubeconfig
from kube_standin.request_log import RecordedRequest, RequestLog
from kube_standin.server import LoopbackServer
from kube_standin.store import Store, clone
from kube_standin.usage import cluster_usage

Obj = dict[str, Any]
LOGGER = logging.getLogger(__name__)
DEFAULT_TOKEN = "standin-token"


class StandinCluster:
    def __init__(
        self,
        fixture: str | Path | Obj | None = None,
        *,
        token: str | None = None,
        port: int = 0,
        settings: SimulationSettings | None = None,
        clock: Clock | None = None,
        seed: int | None = None,
        tick_interval_seconds: float = 0.05,
    ) -> None:
        """token: when set, every request must carry `Authorization: Bearer <token>` (else 401).
        clock: a ManualClock makes time-driven behaviour (readiness, restarts) fully deterministic."""
        if tick_interval_seconds <= 0:
            raise ValueError("tick_interval_seconds must be > 0")
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be between 0 and 65535, not {port}")
        self.clock: Clock = clock or SystemClock()
        self.store = Store(self.clock, random.Random(seed))
        self.faults = FaultRegistry()
        self.controller = Controller(self.store, self.faults, settings or SimulationSettings())
        self.injector = FaultInjector(self.controller)
        self.request_log = RequestLog()
        self._token = token
        self._port = port
        self._tick = tick_interval_seconds
        self._server: LoopbackServer | None = None
        self._ticker: threading.Thread | None = None
        self._stopping = threading.Event()
        self.api = KubeApi(self.controller, self.request_log, self._server_address, token)
        self.control = ControlApi(self.injector, self.request_log, token)
        if fixture is not None:
            self.load(fixture)

    # ------------------------------------------------------------------ lifecycle
    def load(self, fixture: str | Path | Obj) -> None:
        """Add the fixture's objects (see README for the format); FixtureError when malformed."""
        load_fixture(self.controller, fixture)

    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError("the stand-in cluster is already running")
        self._server = LoopbackServer(self._handle, port=self._port)
        self._server.start()
        self._stopping.clear()
        self._ticker = threading.Thread(target=self._run_ticker, name="kube-standin-controller", daemon=True)
        self._ticker.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.api.closed = True
        self.store.close()
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._ticker is not None:
            self._ticker.join(timeout=5)
            self._ticker = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _run_ticker(self) -> None:
        while not self._stopping.wait(self._tick):
            try:
                self.controller.sync()
            except Exception:  # keep reconciling; the same error will surface on the next API request
                LOGGER.exception("reconcile failed")

    def _handle(self, request: Request) -> Response:
        if self.control.handles(request.path):
            return self.control.handle(request)
        return self.api.handle(request)

    def _server_address(self) -> str:
        return f"127.0.0.1:{self.port}"

    # ------------------------------------------------------------------ connection details
    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the stand-in cluster is not running; call start() first")
        return self._server.port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token(self) -> str:
        """The bearer token clients should send (accepted by any check)."""
        return self._token or DEFAULT_TOKEN

    def kubeconfig_dict(self, context_name: str = "standin", namespace: str = "default") -> Obj:
        return kubeconfig_dict(self.url, self.token, context_name, namespace)

    def write_kubeconfig(self, path: str | Path, context_name: str = "standin", namespace: str = "default") -> Path:
        return write_kubeconfig(path, self.kubeconfig_dict(context_name, namespace))

    # ------------------------------------------------------------------ request log
    @property
    def requests(self) -> list[RecordedRequest]:
        return self.request_log.all()

    def clear_requests(self) -> None:
        self.request_log.clear()

    def mutating_requests(self) -> list[RecordedRequest]:
        """Every Kubernetes request that was not a get, list or watch."""
        return self.request_log.mutating()

    # ------------------------------------------------------------------ state
    def get(self, resource: str, namespace: str, name: str) -> Obj | None:
        """A copy of a stored object by resource plural ('deployments', 'pods', ...); '' namespace for nodes."""
        with self.store.lock:
            self.controller.sync()
            found = self.store.get(resource, namespace, name)
            return clone(found) if found is not None else None

    def list(self, resource: str, namespace: str | None = None) -> list[Obj]:
        with self.store.lock:
            self.controller.sync()
            return clone(self.store.select(resource, namespace))

    def sync(self) -> None:
        """Bring every object up to date with the clock now (normally done per request and by a ticker)."""
        self.controller.sync(force=True)

    def usage(self) -> Obj:
        """Per-pod, per-container usage; the same document GET /standin/v1/pods/usage returns."""
        return cluster_usage(self.controller)

    def faults_summary(self) -> Obj:
        return self.injector.describe()

    def wait_for(self, predicate: Callable[[], bool], timeout_seconds: float = 10.0, interval: float = 0.02) -> None:
        """Poll until predicate() is true; TimeoutError after timeout_seconds of wall time."""
        deadline = time.monotonic() + timeout_seconds
        while True:
            self.sync()
            if predicate():
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout_seconds} s")
            time.sleep(interval)

    # ------------------------------------------------------------------ faults
    def inject_cpu_hog(
        self, namespace: str, *, pod: str | None = None, deployment: str | None = None, container: str | None = None
    ) -> Obj:
        return self.injector.cpu_hog(namespace, pod, deployment, container)

    def inject_crash_loop(
        self, namespace: str, *, pod: str | None = None, deployment: str | None = None, container: str | None = None
    ) -> Obj:
        return self.injector.crash_loop(namespace, pod, deployment, container)

    def inject_bad_rollout(
        self,
        namespace: str,
        deployment: str,
        *,
        image: str | None = None,
        container: str | None = None,
        mode: str = "crash",
    ) -> Obj:
        """mode "crash": the new pods crash-loop; "image-pull": their image cannot be pulled."""
        return self.injector.bad_rollout(namespace, deployment, image, container, mode)

    def inject_oom(
        self, namespace: str, deployment: str, *, container: str | None = None, memory: str | int | float | None = None
    ) -> Obj:
        return self.injector.oom(namespace, deployment, container, memory)

    def set_node_ready(self, node: str, ready: bool) -> Obj:
        return self.injector.set_node_ready(node, ready)

    def inject_evicted_pods(
        self, namespace: str, count: int = 1, *, deployment: str | None = None, node: str | None = None
    ) -> Obj:
        return self.injector.evict_pods(namespace, count, deployment, node)

    def inject_failed_job(
        self,
        namespace: str,
        name: str,
        *,
        image: str = "busybox:1.36",
        backoff_limit: int = 0,
        finished_seconds_ago: float = 0.0,
    ) -> Obj:
        return self.injector.failed_job(
            namespace, name, image=image, backoff_limit=backoff_limit, finished_seconds_ago=finished_seconds_ago
        )

    def clear_pod_faults(self, namespace: str, pod: str) -> Obj:
        return self.injector.clear_pod(namespace, pod)
