"""A recording HTTP server on loopback: stands in for a peer we cannot run here.

Tests and the local scenario point a service at it (the ChatOps URL, a Slack webhook,
a Teams Workflows URL) and read back exactly what was sent on the wire. Answers can be
scripted (e.g. 503 twice, then 200) to exercise retries.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: bytes = b"ok"
    headers: tuple[tuple[str, str], ...] = ()


class HttpReceiver:
    def __init__(self, default: Answer | None = None, handler: Callable[[Received], Answer] | None = None) -> None:
        self.received: list[Received] = []
        self._script: deque[Answer] = deque()
        self._default = default or Answer()
        self._handler = handler
        self._lock = threading.Condition()
        receiver = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                item = Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                answer = receiver._answer(item)
                self.send_response(answer.status)
                for key, value in answer.headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_POST = do_GET = do_PUT = do_PATCH = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _answer(self, item: Received) -> Answer:
        with self._lock:
            self.received.append(item)
            answer = self._script.popleft() if self._script else None
            self._lock.notify_all()
        if answer is not None:
            return answer
        if self._handler is not None:
            return self._handler(item)
        return self._default

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def script(self, *answers: Answer) -> None:
        with self._lock:
            self._script.extend(answers)

    def set_default(self, answer: Answer) -> None:
        self._default = answer

    def wait_for(self, count: int, timeout: float = 10.0, path: str | None = None) -> list[Received]:
        with self._lock:
            self._lock.wait_for(lambda: len(self.matching(path)) >= count, timeout=timeout)
            return self.matching(path)

    def matching(self, path: str | None = None) -> list[Received]:
        return [r for r in self.received if path is None or r.path.split("?")[0] == path]

    def start(self) -> HttpReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HttpReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
