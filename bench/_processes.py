"""Start a gunicorn app on a free loopback port and wait for /healthz (bench helper)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from local_scenario.process_group import stop_process_group

ROOT = Path(__file__).resolve().parents[1]

# A benchmark stopped with SIGTERM (e.g. by `timeout`) still runs its `finally` blocks and stops its servers.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{app} exited with {process.returncode}")
        try:
            if requests.get(url + "/healthz", timeout=0.5).status_code == 200:
                return process, url, time.perf_counter() - started
        except requests.RequestException:
            pass
        time.sleep(0.005)


def stop(process: subprocess.Popen[bytes]) -> None:
    stop_process_group(process)
