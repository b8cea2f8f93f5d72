"""A loopback stand-in for the Cloud Monitoring v3 REST API (timeSeries list and create).

It speaks the real wire format: the google-cloud-monitoring client, in REST
transport mode, sends its real requests to it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

DATA = Path(__file__).resolve().parents[1] / "data"


@dataclass
class FakeMonitoring:
    endpoint: str = ""
    # metric type -> TimeSeries JSON objects returned by list
    series: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    list_queries: list[dict[str, list[str]]] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)  # request bodies of create
    fail_creates: int = 0  # answer this many create requests with 400 first


def _handler(state: FakeMonitoring) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if not url.path.endswith("/timeSeries"):
                self._reply(404, {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}})
                return
            query = parse_qs(url.query)
            state.list_queries.append(query)
            metric = query.get("filter", [""])[0].split('"')[1]
            self._reply(200, {"timeSeries": state.series.get(metric, [])})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            if state.fail_creates > 0:
                state.fail_creates -= 1
                self._reply(400, {"error": {"code": 400, "message": "bad point", "status": "INVALID_ARGUMENT"}})
                return
            state.created.append(body)
            self._reply(200, {})

    return Handler


@pytest.fixture()
def fake_monitoring() -> Iterator[FakeMonitoring]:
    state = FakeMonitoring()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture()
def sample() -> Any:
    """Loads a JSON sample from tests/data by relative path."""

    def load(relative: str) -> Any:
        return json.loads((DATA / relative).read_text(encoding="utf-8"))

    return load
