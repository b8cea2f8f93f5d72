"""Bench helpers: gunicorn on a free loopback port, a fleet of Deployments, and push bodies."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from local_scenario.emulators import free_port
from local_scenario.process_group import stop_process_group, wait_for_http

ROOT = Path(__file__).resolve().parents[1]

# A benchmark stopped with SIGTERM (e.g. by `timeout`) still runs its `finally` blocks and stops its servers.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def fleet_fixture(targets: int) -> dict[str, Any]:
    """A stand-in cluster fixture with `targets` one-replica Deployments web-0.. in namespace shop."""
    deployments = [
        {"name": f"web-{i}", "replicas": 1, "labels": {"app": f"web-{i}"},
         "containers": [{"name": "web", "image": "shop/web:1"}]}
        for i in range(targets)
    ]  # fmt: skip
    return {"namespaces": [{"name": "shop", "deployments": deployments}]}


def push_body(incident_id: str, target: int, message_id: str) -> bytes:
    """A Pub/Sub push envelope carrying a high-CPU incident on Deployment web-<target>."""
    doc = json.loads((ROOT / "tests" / "data" / "alerts" / "cpu_high_open.json").read_text())
    inc = doc["incident"]
    inc["incident_id"] = incident_id
    inc["resource"]["labels"].update(namespace_name="shop", pod_name=f"web-{target}-x", container_name="web")
    inc["metadata"]["system_labels"]["top_level_controller_name"] = f"web-{target}"
    data = base64.b64encode(json.dumps(doc).encode()).decode()
    return json.dumps({"message": {"data": data, "messageId": message_id}, "subscription": "s"}).encode()


def start_gunicorn(
    app: str, env: dict[str, str], *, workers: int = 1, threads: int = 8
) -> tuple[subprocess.Popen[bytes], str, float]:
    """Returns (process, url, seconds from spawn to the first answered /healthz)."""
    port = free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    started = time.perf_counter()
    process = subprocess.Popen(
        [
            gunicorn,
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--log-level",
            "warning",
            app,
        ],
        cwd=ROOT / "bench" if app.startswith("bare_app") else ROOT,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    if wait_for_http(process, url + "/healthz", timeout=60, interval=0.005) != "up":
        stop_process_group(process)
        raise RuntimeError(f"{app} did not start (exit code {process.returncode})")
    return process, url, time.perf_counter() - started


def stop(process: subprocess.Popen[bytes]) -> None:
    stop_process_group(process)
