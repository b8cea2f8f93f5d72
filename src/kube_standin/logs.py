"""Plausible container log lines, derived deterministically from a container's simulated history."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from kube_standin.faults import CRASH_OOM

ROUTES = ("GET /healthz", "GET /api/products", "POST /api/cart", "GET /api/products/42", "GET /metrics")
HEALTHY_INTERVAL_SECONDS = 2.0
MAX_LINES = 500


@dataclass(frozen=True)
class RunHistory:
    """One run of a container: when it started, when (and how) it ended, if it did."""

    started_at: float
    ended_at: float | None
    crash_reason: str | None  # "Error", "OOMKilled" or None
    cause: str  # "crash-loop", "bad-image", "oom" or ""


def _pick(seed: str, options: tuple[str, ...]) -> str:
    return options[hashlib.sha256(seed.encode()).digest()[0] % len(options)]


def _latency(seed: str) -> float:
    digest = hashlib.sha256(seed.encode()).digest()
    return 0.4 + digest[1] / 255 * 40


def run_lines(pod_uid: str, container: str, image: str, run: RunHistory, now: float) -> list[tuple[float, str]]:
    start = run.started_at
    repo, _, tag = image.rpartition(":") if ":" in image.rsplit("/", 1)[-1] else (image, "", "latest")
    lines: list[tuple[float, str]] = [
        (start, f'level=info msg="starting {repo.rsplit("/", 1)[-1]}" version={tag} container={container}'),
        (start + 0.01, 'level=info msg="loaded configuration" path=/etc/app/config.yaml'),
    ]
    if run.crash_reason is not None:
        end = run.ended_at if run.ended_at is not None else now
        if run.cause == "oom" or run.crash_reason == CRASH_OOM:
            lines += [
                (start + 0.02, 'level=info msg="warming cache" entries=1024'),
                (start + 0.03, 'level=info msg="warming cache" entries=65536'),
                (start + 0.04, 'level=warn msg="heap usage high" percent_of_limit=97'),
            ]
        elif run.cause == "bad-image":
            lines += [
                (start + 0.02, "panic: runtime error: invalid memory address or nil pointer dereference"),
                (start + 0.02, "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4a5f2c]"),
                (start + 0.02, "goroutine 1 [running]:"),
                (start + 0.02, "main.(*Server).loadCatalog(0xc0001a4000)"),
            ]
        else:
            lines += [
                (
                    start + 0.02,
                    'level=error msg="failed to connect to upstream" '
                    'error="dial tcp 10.112.4.17:5432: connect: connection refused" attempt=3',
                ),
                (start + 0.03, 'level=fatal msg="giving up: upstream unavailable" exit_code=1'),
            ]
        return [(min(t, end), text) for t, text in lines]
    lines.append((start + 0.05, 'level=info msg="listening" addr=:8080'))
    end = run.ended_at if run.ended_at is not None else now
    count = int(max(0.0, end - start - 0.05) / HEALTHY_INTERVAL_SECONDS)
    first = max(0, count - MAX_LINES)
    for index in range(first, count):
        stamp = start + 0.05 + (index + 1) * HEALTHY_INTERVAL_SECONDS
        seed = f"{pod_uid}/{container}/{index}"
        route = _pick(seed, ROUTES)
        lines.append((stamp, f'level=info msg="request" route="{route}" status=200 duration_ms={_latency(seed):.1f}'))
    return lines
