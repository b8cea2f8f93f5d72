"""Start and stop the Google Cloud CLI's Pub/Sub and Firestore emulators on loopback.

Each emulator runs in its own process group (the `gcloud` wrapper leaves a Java child
behind otherwise) and is always stopped by group, even after a failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from local_scenario.process_group import stop_process_group, wait_for_http

INSTALL_HINT = (
    "the Google Cloud CLI with its emulators is needed: install it "
    "(https://cloud.google.com/sdk/docs/install), then `gcloud components install pubsub-emulator "
    "cloud-firestore-emulator beta` (or the Debian packages google-cloud-cli-pubsub-emulator and "
    "google-cloud-cli-firestore-emulator)"
)


class EmulatorUnavailable(RuntimeError):
    """gcloud or an emulator component is missing, or the emulator did not start."""


def gcloud_path() -> str | None:
    return shutil.which("gcloud")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Emulator:
    name: str
    host_port: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def stop(self) -> None:
        stop_process_group(self.process)


def start_emulator(kind: str, workdir: Path, *, timeout: float = 60.0) -> Emulator:
    """Start `gcloud beta emulators {pubsub|firestore} start` on a free loopback port."""
    gcloud = gcloud_path()
    if gcloud is None:
        raise EmulatorUnavailable(f"gcloud not found on PATH: {INSTALL_HINT}")
    port = free_port()
    host_port = f"127.0.0.1:{port}"
    workdir.mkdir(parents=True, exist_ok=True)
    log_path = workdir / f"{kind}-emulator.log"
    args = [gcloud, "beta", "emulators", kind, "start", f"--host-port={host_port}", "--quiet"]
    if kind == "pubsub":
        (workdir / "pubsub-data").mkdir(parents=True, exist_ok=True)
        args.append(f"--data-dir={workdir / 'pubsub-data'}")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_EMULATOR_HOST")}
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            args, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True, env=env, cwd=workdir
        )
    emulator = Emulator(kind, host_port, process, log_path)
    state = wait_for_http(process, f"http://{host_port}/", timeout, interval=0.3)
    if state == "up":
        return emulator
    if state == "exited":
        tail = log_path.read_text(errors="replace")[-800:]
        raise EmulatorUnavailable(f"the {kind} emulator exited early ({INSTALL_HINT}):\n{tail}")
    emulator.stop()
    raise EmulatorUnavailable(f"the {kind} emulator did not answer within {timeout:.0f}s; see {log_path}")


@contextlib.contextmanager
def running_emulator(kind: str, workdir: Path) -> Iterator[Emulator]:
    emulator = start_emulator(kind, workdir)
    try:
        yield emulator
    finally:
        emulator.stop()
