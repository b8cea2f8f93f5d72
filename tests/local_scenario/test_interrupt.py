"""Ctrl-C (SIGINT) in the middle of the demo stops everything it started."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from local_scenario.emulators import Emulator

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.emulator, pytest.mark.slow]


def _listening(host_port: str) -> bool:
    host, port = host_port.rsplit(":", 1)
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, int(port))) == 0


def test_sigint_stops_emulators_services_and_exits_130(tmp_path: Path, pubsub_emulator: Emulator) -> None:
    del pubsub_emulator  # only here to skip (or fail under CI) where gcloud is missing
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    config = REPO / "config"
    args = ["--out", "demo", "--no-anomaly", "--rounds", "1", "--rules", str(config / "alert_rules.yaml"),
            "--policy", str(config / "demo" / "healer_policy.yaml"),
            "--routing", str(config / "demo" / "chatops_routing.yaml")]  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", "local_scenario", *args],
        cwd=tmp_path,  # with a relative --out: every child must still find its files
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 90
        for line in process.stdout:
            output.append(line)
            if "INJECT" in line or time.monotonic() > deadline:
                break
        text = "".join(output)
        addresses = re.findall(r"127\.0\.0\.1:\d+", text)
        assert len(addresses) >= 5, text  # stand-in, two emulators, healer, ChatOps
        assert all(_listening(a) for a in addresses[1:]), text
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, text + rest
    assert "interrupted (SIGINT); everything started was stopped" in rest
    time.sleep(0.5)
    assert not [a for a in addresses if _listening(a)]
    assert (tmp_path / "demo" / "run" / "healer.log").is_file()
