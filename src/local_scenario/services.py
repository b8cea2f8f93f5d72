"""The healer and the ChatOps service under gunicorn, each in its own process group."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from local_scenario.emulators import free_port
from local_scenario.process_group import stop_process_group, wait_for_http


class ServiceFailed(RuntimeError):
    """A service did not come up; the message carries the tail of its log."""


@dataclass
class Service:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_tail(self, chars: int = 1500) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> None:
        stop_process_group(self.process)


def spawn_gunicorn(name: str, app: str, env: Mapping[str, str], workdir: Path, *, port: int = 0) -> Service:
    """`gunicorn APP` on loopback (a free port unless given) with exactly `env`, in its own process group."""
    port = port or free_port()
    log_path = workdir / f"{name}.log"
    args = [
        sys.executable, "-m", "gunicorn", app,
        "--bind", f"127.0.0.1:{port}",
        "--workers", "1", "--threads", "8",
        "--timeout", "60", "--graceful-timeout", "5",
        "--access-logfile", "-",
    ]  # fmt: skip
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            args, stdout=log_file, stderr=subprocess.STDOUT, env=dict(env), cwd=workdir, start_new_session=True
        )
    return Service(name, f"http://127.0.0.1:{port}", process, log_path)


def wait_healthy(service: Service, timeout: float = 30.0) -> Service:
    """Wait for /healthz; on failure stop the service and raise with the tail of its log."""
    state = wait_for_http(service.process, service.url + "/healthz", timeout)
    if state == "up":
        return service
    if state == "exited":
        raise ServiceFailed(f"{service.name} exited during start-up:\n{service.log_tail()}")
    service.stop()
    raise ServiceFailed(f"{service.name} did not answer /healthz within {timeout:.0f}s:\n{service.log_tail()}")


def start_gunicorn(
    name: str, app: str, env: Mapping[str, str], workdir: Path, *, port: int = 0, timeout: float = 30.0
) -> Service:
    return wait_healthy(spawn_gunicorn(name, app, env, workdir, port=port), timeout)
