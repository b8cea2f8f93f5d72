"""Stand-in cluster soak: faults ticking, a metrics poller and a healer-like restarter for a while.

Prints memory (RSS), store size, change-log length and usage-read latency at the start and end, to show
that nothing grows without bound. Baseline: the same figures right after loading the fixture.

    .venv/bin/python bench/standin_soak.py [seconds]
"""

from __future__ import annotations

import statistics
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime

from kubernetes import client

from kube_standin.cluster import StandinCluster
from kube_standin.controller import SimulationSettings

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 20.0
FIXTURE = {
    "namespaces": [
        {
            "name": "shop",
            "deployments": [
                {
                    "name": f"svc-{i}",
                    "replicas": 3,
                    "containers": [
                        {
                            "name": "app",
                            "image": f"shop/svc-{i}:1.0",
                            "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
                        }
                    ],
                }
                for i in range(10)
            ],
        }
    ]
}


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def snapshot(label: str, cluster: StandinCluster, latencies: list[float]) -> None:
    with cluster.store.lock:
        objects = sum(len(cluster.store.select(r)) for r in ("pods", "replicasets", "events", "deployments"))
        changes = len(cluster.store.changes_after(0)[0])
    p99 = sorted(latencies)[int(len(latencies) * 0.99) - 1] if latencies else float("nan")
    median = statistics.median(latencies) if latencies else float("nan")
    print(
        f"{label:<10} rss {rss_mib():7.1f} MiB  objects {objects:5d}  change log {changes:5d}  "
        f"usage read p50 {median:6.2f} ms p99 {p99:6.2f} ms"
    )


def main() -> None:
    settings = SimulationSettings(ready_delay_seconds=0.1, crash_restart_interval_seconds=0.2)
    with StandinCluster(FIXTURE, settings=settings, seed=1) as cluster:
        snapshot("baseline", cluster, [])
        for index in range(3):
            cluster.inject_crash_loop("shop", deployment=f"svc-{index}")
            cluster.inject_cpu_hog("shop", deployment=f"svc-{index + 3}")
        stop = threading.Event()
        latencies: list[float] = []
        restarts = 0

        def poll_usage() -> None:
            while not stop.is_set():
                start = time.perf_counter()
                urllib.request.urlopen(cluster.url + "/standin/v1/pods/usage", timeout=10).read()
                latencies.append((time.perf_counter() - start) * 1000)
                time.sleep(0.05)

        def restart_now_and_then() -> None:
            nonlocal restarts
            apps = client.AppsV1Api(client.ApiClient(client.Configuration(host=cluster.url)))
            while not stop.wait(1.0):
                stamp = datetime.now(UTC).isoformat()
                body = {"spec": {"template": {"metadata": {"annotations": {"restartedAt": stamp}}}}}
                apps.patch_namespaced_deployment(f"svc-{6 + restarts % 4}", "shop", body)  # faults stay on 0-5
                restarts += 1

        threads = [threading.Thread(target=poll_usage), threading.Thread(target=restart_now_and_then)]
        for thread in threads:
            thread.start()
        time.sleep(SECONDS / 2)
        snapshot("halfway", cluster, latencies[:])
        time.sleep(SECONDS / 2)
        stop.set()
        for thread in threads:
            thread.join()
        snapshot("end", cluster, latencies)
        restart_counts = [c["restart_count"] for p in cluster.usage()["pods"] for c in p["containers"]]
        print(
            f"{SECONDS:.0f} s: {len(latencies)} usage reads, {restarts} rollout restarts, "
            f"max container restart count {max(restart_counts)}"
        )


if __name__ == "__main__":
    main()
