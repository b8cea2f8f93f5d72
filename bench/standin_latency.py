"""Stand-in cluster: per-request latency through the official kubernetes client, and rollout time.

Baseline, measured in the same run: the same loopback HTTP server and client answering every request
with a canned Deployment body (no store, no controller), so the difference is the stand-in's own work.

    .venv/bin/python bench/standin_latency.py [deployments] [replicas]
"""

from __future__ import annotations

import json
import statistics
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime

from kubernetes import client

from kube_standin.api import Response
from kube_standin.cluster import StandinCluster
from kube_standin.controller import SimulationSettings
from kube_standin.server import LoopbackServer

DEPLOYMENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
REPLICAS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
SAMPLES = 300


def fixture() -> dict[str, object]:
    deployments = [
        {"name": f"svc-{i}", "replicas": REPLICAS,
         "containers": [{"name": "app", "image": f"shop/svc-{i}:1.0",
                         "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                                       "limits": {"cpu": "500m", "memory": "256Mi"}}}]}
        for i in range(DEPLOYMENTS)
    ]  # fmt: skip
    nodes = [{"name": f"node-{i}"} for i in range(max(3, DEPLOYMENTS * REPLICAS // 30))]
    return {"nodes": nodes, "namespaces": [{"name": "shop", "deployments": deployments}]}


def timed(label: str, call: Callable[[], object], samples: int = SAMPLES) -> list[float]:
    durations = []
    for _ in range(samples):
        start = time.perf_counter()
        call()
        durations.append((time.perf_counter() - start) * 1000)
    durations.sort()
    p50, p99 = statistics.median(durations), durations[int(len(durations) * 0.99) - 1]
    print(f"{label:<44} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")
    return durations


def apps_for(url: str) -> client.AppsV1Api:
    configuration = client.Configuration(host=url)
    return client.AppsV1Api(client.ApiClient(configuration))


def main() -> None:
    print(f"fixture: {DEPLOYMENTS} deployments x {REPLICAS} replicas")
    started = time.perf_counter()
    cluster = StandinCluster(fixture(), seed=1, settings=SimulationSettings(ready_delay_seconds=0)).start()
    print(f"load fixture + start: {(time.perf_counter() - started) * 1000:.0f} ms")
    canned = json.dumps(cluster.get("deployments", "shop", "svc-0")).encode()
    baseline = LoopbackServer(lambda _request: Response(200, canned))
    baseline.start()
    try:
        base_apps = apps_for(f"http://127.0.0.1:{baseline.port}")
        apps = apps_for(cluster.url)
        core = client.CoreV1Api(apps.api_client)
        timed(
            "baseline: canned Deployment over same HTTP", lambda: base_apps.read_namespaced_deployment("svc-0", "shop")
        )
        timed("read_namespaced_deployment", lambda: apps.read_namespaced_deployment("svc-0", "shop"))
        timed("list_namespaced_pod (label selector)",
              lambda: core.list_namespaced_pod("shop", label_selector="app=svc-1"))  # fmt: skip
        timed("list_namespaced_pod (all)", lambda: core.list_namespaced_pod("shop"), samples=50)
        pods_url = cluster.url + "/api/v1/namespaces/shop/pods"
        timed(
            "  same list as raw HTTP (no client decoding)", lambda: urllib.request.urlopen(pods_url).read(), samples=50
        )
        timed(
            "patch_namespaced_deployment_scale (no-op)",
            lambda: apps.patch_namespaced_deployment_scale("svc-2", "shop", {"spec": {"replicas": REPLICAS}}),
        )
        usage_url = cluster.url + "/standin/v1/pods/usage"
        timed("GET /standin/v1/pods/usage", lambda: urllib.request.urlopen(usage_url).read(), samples=50)

        rollouts = []
        for index in range(5):
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") + str(index)
            body = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": stamp}}}}}
            start = time.perf_counter()
            apps.patch_namespaced_deployment(f"svc-{index}", "shop", body)
            while True:
                status = apps.read_namespaced_deployment_status(f"svc-{index}", "shop").status
                if (
                    status.updated_replicas == REPLICAS
                    and status.replicas == REPLICAS
                    and status.available_replicas == REPLICAS
                ):
                    break
            rollouts.append((time.perf_counter() - start) * 1000)
        print(f"{'rollout restart until complete (delay 0)':<44} median {statistics.median(rollouts):7.2f} ms")

        errors: list[BaseException] = []
        counts = [0] * 8
        stop = threading.Event()

        def reader(slot: int) -> None:
            local = apps_for(cluster.url)
            try:
                while not stop.is_set():
                    local.read_namespaced_deployment(f"svc-{slot}", "shop")
                    counts[slot] += 1
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=reader, args=(i,)) for i in range(len(counts))]
        for thread in threads:
            thread.start()
        time.sleep(3)
        stop.set()
        for thread in threads:
            thread.join()
        print(f"{'8 concurrent readers':<44} {sum(counts) / 3:7.0f} req/s, errors: {len(errors)}")
    finally:
        baseline.stop()
        cluster.stop()


if __name__ == "__main__":
    main()
