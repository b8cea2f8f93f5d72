"""Cold start: process spawn -> first answered /healthz, healer vs a bare Flask app.

Both run under the same gunicorn settings in the same run; best of N. Target: the healer
within 1.5x the bare app (heavy clients such as kubernetes and Firestore load lazily).
"""

from __future__ import annotations

import statistics
import sys

from _processes import start_gunicorn, stop

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
HEALER_ENV = {  # production-like: push authentication on, Firestore ledger, GKE connection mode
    "HEALER_PUSH_AUDIENCE": "https://healer.example.run.app",
    "HEALER_PUSH_SERVICE_ACCOUNTS": "pubsub-push@bench.iam.gserviceaccount.com",
    "HEALER_LEDGER": "firestore",
    "GOOGLE_CLOUD_PROJECT": "bench",
    "HEALER_KUBE_MODE": "gke",
}


def measure(app: str, env: dict[str, str]) -> list[float]:
    times = []
    for _ in range(RUNS):
        process, _url, seconds = start_gunicorn(app, env)
        stop(process)
        times.append(seconds)
    return times


def main() -> None:
    bare = measure("bare_app:app", {})
    healer = measure("self_healing_service.main:app", HEALER_ENV)
    print(f"cold start, spawn -> first /healthz, best and median of {RUNS} (gunicorn, 1 worker, 8 threads)")
    print(f"  bare Flask app : best {min(bare) * 1000:7.1f} ms   median {statistics.median(bare) * 1000:7.1f} ms")
    print(f"  healer         : best {min(healer) * 1000:7.1f} ms   median {statistics.median(healer) * 1000:7.1f} ms")
    ratio = min(healer) / min(bare)
    print(f"  ratio healer/bare (best): {ratio:.2f}x   target <= 1.5x: {'met' if ratio <= 1.5 else 'NOT met'}")


if __name__ == "__main__":
    main()
