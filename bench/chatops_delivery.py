"""ChatOps delivery cost: message rendering and /notify end to end, each next to a baseline.

1. Rendering: Slack blocks (slack_sdk models, validated) + Teams card (size-measured) per
   notification, against the baseline of parsing the notification and dumping it as JSON.
2. /notify end to end (in-process Flask app, ID-token check off) delivering to one Slack
   webhook and one Teams Workflows receiver on loopback, against the baseline of POSTing the
   same two payloads straight to the receivers with requests.

Usage: .venv/bin/python bench/chatops_delivery.py [count]
"""

from __future__ import annotations

import json
import logging
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from chatops_service.app import create_app
from chatops_service.chat_actions import ActionRef, available_actions
from chatops_service.settings import Settings
from chatops_service.slack_message import build_message
from chatops_service.state import MemoryState
from chatops_service.teams_card import CardLink, build_card_payload
from chatops_service.wording import describe
from healing_contract.notification import parse_notification

ROOT = Path(__file__).resolve().parents[1]
COUNT = int(sys.argv[1]) if len(sys.argv) > 1 else 500
SAMPLE = json.loads((ROOT / "tests" / "data" / "chatops" / "notification_acted_high_cpu.json").read_text())
ROUTING = """
version: 1
destinations:
  slack: {type: slack_webhook, webhook_url_env: BENCH_SLACK}
  teams: {type: teams_workflow, workflow_url_env: BENCH_TEAMS}
routes: [{match: {}, destinations: [slack, teams]}]
default: [slack]
"""


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status = 202 if self.path.startswith("/workflows/") else 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def _report(name: str, samples: list[float]) -> float:
    total = sum(samples)
    rate = len(samples) / total
    print(f"  {name:<38} {rate:9.0f}/s   p50 {_pct(samples, 0.5):7.2f} ms   p99 {_pct(samples, 0.99):7.2f} ms")
    return rate


def bench_rendering() -> None:
    print(f"rendering ({COUNT} notifications)")
    baseline, render = [], []
    for i in range(COUNT):
        doc = {**SAMPLE, "notification_id": f"n{i}"}
        start = time.perf_counter()
        json.dumps(parse_notification(doc).to_dict())
        baseline.append(time.perf_counter() - start)
        start = time.perf_counter()
        n = parse_notification(doc)
        content = describe(n)
        actions = available_actions(n, ("acknowledge", "silence", "approve", "undo"))
        build_message(content, ActionRef.from_notification(n, "slack"), actions).payload()
        build_card_payload(content, [CardLink(a, "https://chatops.example.com/teams/actions/t") for a in actions])
        render.append(time.perf_counter() - start)
    base = _report("baseline: parse + json.dumps", baseline)
    ours = _report("Slack blocks + Teams card", render)
    print(f"  rendering costs {base / ours:.1f}x the baseline per notification")


def bench_notify() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as tmp:
        routing = Path(tmp) / "routing.yaml"
        routing.write_text(ROUTING)
        settings = Settings.from_env(
            {
                "CHATOPS_ROUTES": "notify",
                "CHATOPS_ROUTING_FILE": str(routing),
                "CHATOPS_AUTH_DISABLED": "true",
                "CHATOPS_PUBLIC_URL": "https://chatops.example.com",
                "CHATOPS_LINK_SIGNING_KEY": "bench-link-signing-key-000000",
                "BENCH_SLACK": f"{url}/services/T/B/X",
                "BENCH_TEAMS": f"{url}/workflows/bench",
            }
        )
        logging.getLogger("chatops_service").setLevel(logging.WARNING)
        client = create_app(settings, state=MemoryState()).test_client()
        n = parse_notification(SAMPLE)
        content = describe(n)
        slack_payload = build_message(content, ActionRef.from_notification(n, "slack"), []).payload()
        teams_payload = build_card_payload(content, [])
        session = requests.Session()
        print(f"/notify end to end ({COUNT} notifications, 2 destinations each, sequential)")
        baseline, notify = [], []
        for i in range(COUNT):
            start = time.perf_counter()
            session.post(f"{url}/services/T/B/X", json=slack_payload, timeout=5)
            session.post(f"{url}/workflows/bench", json=teams_payload, timeout=5)
            baseline.append(time.perf_counter() - start)
            start = time.perf_counter()
            resp = client.post("/notify", json={**SAMPLE, "notification_id": f"n{i}"})
            notify.append(time.perf_counter() - start)
            assert resp.status_code == 200, resp.get_json()
        base = _report("baseline: 2 direct POSTs", baseline)
        ours = _report("/notify (parse, route, render, send)", notify)
        print(f"  /notify runs at {ours / base:.2f}x the baseline's rate")
    server.shutdown()
    server.server_close()


if __name__ == "__main__":
    bench_rendering()
    bench_notify()
