"""Stop a child started in its own process group (start_new_session=True), children included."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time


def stop_process_group(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """SIGTERM the whole group, then SIGKILL it if it has not exited within `timeout`."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def wait_for_http(process: subprocess.Popen[bytes], url: str, timeout: float, interval: float = 0.1) -> str:
    """Poll `url` until it answers 200: "up", or "exited" if the process died first, or "timeout"."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return "exited"
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return "up"
        except requests.RequestException:
            pass
        time.sleep(interval)
    return "timeout"
