"""Throughput: incidents/s and p50/p99 latency, healer vs a bare Flask 204 route.

Both under the same gunicorn settings, in the same run, driven by 32 concurrent clients on
loopback. The healer runs dry-run with the in-memory ledger against the stand-in cluster,
so every request does the full parse -> resolve -> policy -> ledger path (each incident is
new, so nothing short-circuits as a duplicate). Targets: >= 0.5x the bare route's
throughput, p99 <= 20 ms at 32 concurrent requests.
"""

from __future__ import annotations

import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests
import yaml
from _processes import fleet_fixture, push_body, start_gunicorn, stop

ROOT = Path(__file__).resolve().parents[1]
CONCURRENCY = 32
REQUESTS = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
FIXTURE = fleet_fixture(50)


def body(n: int) -> bytes:
    return push_body(f"0.bench{n}", n % 50, str(n))


def drive(url: str, bodies: list[bytes]) -> tuple[float, list[float], dict[int, int]]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    index = iter(range(len(bodies)))

    def worker() -> None:
        session = requests.Session()
        while True:
            with lock:
                n = next(index, None)
            if n is None:
                return
            started = time.perf_counter()
            status = session.post(url + "/", data=bodies[n], headers={"Content-Type": "application/json"}).status_code
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

    threads = [threading.Thread(target=worker) for _ in range(CONCURRENCY)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(bodies) / (time.perf_counter() - started), latencies, statuses


def report(name: str, rate: float, latencies: list[float], statuses: dict[int, int]) -> None:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
    print(f"  {name:<22} {rate:8.0f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   statuses {statuses}")


def wrk(url: str, seconds: int = 10) -> tuple[float, str]:
    """The same comparison with wrk (a C load generator in its own process), when it is installed."""
    script = ROOT / "bench" / "incident_requests.lua"
    result = subprocess.run(
        ["wrk", "-t2", f"-c{CONCURRENCY}", f"-d{seconds}s", "--latency", "-s", str(script), url + "/"],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=False,
    )
    lines = result.stdout.splitlines()
    rate = next((line.split()[1] for line in lines if line.startswith("Requests/sec")), "?")
    p50 = next((line.split()[1] for line in lines if line.strip().startswith("50%")), "?")
    p99 = next((line.split()[1] for line in lines if line.strip().startswith("99%")), "?")
    errors = next((line.strip() for line in lines if "Non-2xx" in line or "Socket errors" in line), "no errors")
    value = float(rate) if rate != "?" else 0.0
    return value, f"{value:8.0f} req/s   p50 {p50:>8}   p99 {p99:>8}   {errors}"


def main() -> None:
    bodies = [body(n) for n in range(REQUESTS)]
    with tempfile.TemporaryDirectory() as tmp:
        # the stand-in runs in its own process so it does not share the clients' interpreter lock
        fixture = Path(tmp) / "fixture.yaml"
        fixture.write_text(yaml.safe_dump(FIXTURE))
        kubeconfig = Path(tmp) / "kubeconfig"
        standin = subprocess.Popen(
            [sys.executable, "-m", "kube_standin", "--fixture", str(fixture), "--kubeconfig-out", str(kubeconfig)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        while not kubeconfig.exists() or not kubeconfig.read_text():
            time.sleep(0.05)
        env = {
            "HEALER_AUTH_DISABLED": "true",
            "HEALER_DRY_RUN": "true",
            "HEALER_KUBE_MODE": "kubeconfig",
            "HEALER_KUBECONFIG": str(kubeconfig),
            "HEALER_LOG_LEVEL": "WARNING",
        }
        settings = {
            "workers": int(os.environ.get("BENCH_WORKERS", "2")),
            "threads": int(os.environ.get("BENCH_THREADS", "16")),
        }
        bare, bare_url, _ = start_gunicorn("bare_app:app", {}, **settings)
        healer, healer_url, _ = start_gunicorn("self_healing_service.main:app", env, **settings)
        try:
            drive(bare_url, bodies[:200])
            drive(healer_url, [body(REQUESTS + n) for n in range(200)])  # warm-up (lazy imports, connections)
            bare_rate, bare_lat, bare_status = drive(bare_url, bodies)
            rate, lat, status = drive(healer_url, bodies)
            wrk_lines = []
            if shutil.which("wrk"):
                (bare_wrk, bare_line), (healer_wrk, healer_line) = wrk(bare_url), wrk(healer_url)
                wrk_lines = [
                    f"  {'bare Flask 204 route':<22} {bare_line}",
                    f"  {'healer (dry-run)':<22} {healer_line}",
                    f"  ratio healer/bare: {healer_wrk / bare_wrk if bare_wrk else 0:.2f}x",
                ]
        finally:
            stop(bare)
            stop(healer)
            os.killpg(standin.pid, signal.SIGTERM)
            standin.wait(timeout=10)
    print(
        f"throughput, {REQUESTS} requests, {CONCURRENCY} concurrent clients, gunicorn {settings['workers']} workers x {settings['threads']} threads"
    )
    report("bare Flask 204 route", bare_rate, bare_lat, bare_status)
    report("healer (dry-run)", rate, lat, status)
    ratio = rate / bare_rate
    p99 = sorted(lat)[int(len(lat) * 0.99) - 1] * 1000
    print(
        f"  ratio healer/bare: {ratio:.2f}x (target >= 0.5x: {'met' if ratio >= 0.5 else 'NOT met'}); "
        f"healer p99 {p99:.1f} ms (target <= 20 ms: {'met' if p99 <= 20 else 'NOT met'})"
    )
    print("  note: clients, both servers and the stand-in cluster share this machine's cores")
    if wrk_lines:
        print(
            f"same servers driven by wrk (C, own process, 2 threads, {CONCURRENCY} connections, 10 s, every request a new incident):"
        )
        print("\n".join(wrk_lines))
    else:
        print("(install wrk to also measure with a C load generator in its own process)")


if __name__ == "__main__":
    main()
