"""Storm: 10,000 incident deliveries for 50 targets with heavy duplication, concurrently.

500 distinct incidents (10 per target), each delivered 20 times, shuffled, 64 concurrent
clients against the healer under gunicorn (real restarts against the stand-in cluster,
in-memory ledger, one worker process). A non-2xx answer is redelivered, as Pub/Sub would.
Prints: restarts taken (target: exactly one per target within the cooldown), decisions
refused, duplicates absorbed, and deliveries lost (never acknowledged; target 0).
"""

from __future__ import annotations

import random
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests
from _processes import fleet_fixture, push_body, start_gunicorn, stop

from kube_standin.cluster import StandinCluster
from kube_standin.controller import SimulationSettings

ROOT = Path(__file__).resolve().parents[1]
TARGETS, PER_TARGET, COPIES, CONCURRENCY, MAX_REDELIVERIES = 50, 10, 20, 64, 5
FIXTURE = fleet_fixture(TARGETS)


def body(incident: int) -> bytes:
    return push_body(f"0.storm{incident}", incident % TARGETS, str(incident))


WIDE_BUDGETS = """\
version: 1
defaults:
  cooldown: 10m
  budgets:
    per_target: {limit: 3, window: 1h}
    per_namespace: {limit: 100, window: 1h}
    per_cluster: {limit: 100, window: 1h}
  circuit_breaker: {limit: 100, window: 10m}
rules:
  - name: cpu
    match: {kinds: [high_cpu]}
    ladder: [{action: restart}]
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        policy = Path(tmp) / "policy.yaml"
        policy.write_text(WIDE_BUDGETS)
        print("== namespace/cluster budgets raised to 100 (measures de-duplication and the per-target cooldown)")
        storm({"HEALER_POLICY_FILE": str(policy)})
    print("== default policy (10 actions per namespace per hour: the budget stops the storm, and says why)")
    storm({})


def storm(extra_env: dict[str, str]) -> None:
    deliveries = [n for n in range(TARGETS * PER_TARGET) for _ in range(COPIES)]
    random.Random(7).shuffle(deliveries)
    bodies = {n: body(n) for n in set(deliveries)}
    with (
        StandinCluster(FIXTURE, settings=SimulationSettings(ready_delay_seconds=0.0)) as cluster,
        tempfile.TemporaryDirectory() as tmp,
    ):
        kubeconfig = cluster.write_kubeconfig(Path(tmp) / "kubeconfig")
        env = {
            "HEALER_AUTH_DISABLED": "true",
            "HEALER_KUBE_MODE": "kubeconfig",
            "HEALER_KUBECONFIG": str(kubeconfig),
            "HEALER_LOG_LEVEL": "WARNING",
            "HEALER_VERIFY_TIMEOUT_SECONDS": "5",
            "HEALER_VERIFY_POLL_SECONDS": "0.05",
            **extra_env,
        }
        healer, url, _ = start_gunicorn("self_healing_service.main:app", env, workers=1, threads=32)
        statuses: Counter[int] = Counter()
        acked: set[int] = set()
        lost: list[int] = []
        lock = threading.Lock()
        queue = iter(deliveries)

        def worker() -> None:
            session = requests.Session()
            while True:
                with lock:
                    n = next(queue, None)
                if n is None:
                    return
                for _attempt in range(1 + MAX_REDELIVERIES):
                    status = session.post(
                        url + "/", data=bodies[n], headers={"Content-Type": "application/json"}, timeout=60
                    ).status_code
                    with lock:
                        statuses[status] += 1
                    if status == 204:
                        with lock:
                            acked.add(n)
                        break
                    time.sleep(0.2)
                else:
                    with lock:
                        lost.append(n)

        try:
            started = time.perf_counter()
            threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            elapsed = time.perf_counter() - started
            status_json = requests.get(url + "/control/v1/status", timeout=10).json()
            metrics_text = requests.get(url + "/metrics", timeout=10).text
        finally:
            stop(healer)
        restarts = [r for r in cluster.mutating_requests() if r.verb == "patch" and "/deployments/" in r.path]
    per_target = Counter(r.path.rsplit("/", 1)[-1] for r in restarts)
    print(
        f"storm: {len(deliveries)} deliveries of {len(bodies)} incidents for {TARGETS} targets, "
        f"{CONCURRENCY} concurrent clients, {elapsed:.1f} s ({len(deliveries) / elapsed:.0f} deliveries/s)"
    )
    print(
        f"  restarts taken      : {len(restarts)} (targets restarted: {len(per_target)}, "
        f"max per target: {max(per_target.values()) if per_target else 0}; target: exactly 1 per target)"
    )
    reasons = Counter()
    for line in metrics_text.splitlines():
        if line.startswith("healer_decisions_total{"):
            labels = dict(part.split("=", 1) for part in line[line.index("{") + 1 : line.index("}")].split(","))
            reasons[f"{labels['outcome'].strip(chr(34))}/{labels['reason'].strip(chr(34))}"] += int(
                float(line.split()[-1])
            )
    print(f"  incidents refused   : {len(bodies) - len(restarts)}; decisions by outcome/reason: {dict(reasons)}")
    print(f"  HTTP answers        : {dict(statuses)}")
    print(f"  deliveries lost     : {len(lost)} (never acknowledged after {MAX_REDELIVERIES} redeliveries; target 0)")
    print(
        f"  incidents acked     : {len(acked)} of {len(bodies)}; recent decisions visible: {len(status_json['recent'])}"
    )


if __name__ == "__main__":
    main()
