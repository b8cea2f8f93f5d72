"""A threading HTTP/1.1 server on loopback that hands requests to the API objects."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from kube_standin.api import Request, Response

Handler = Callable[[Request], Response]
MAX_BODY_BYTES = 16 * 2**20


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120  # seconds a connection may sit idle or stall mid-request before its thread gives up
    server_version = "kube-standin"
    sys_version = ""
    handle_request_fn: Handler  # set on the subclass made per server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and delayed ACKs
        # add about 40 ms to every request on loopback.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: object) -> None:
        return

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        length_text = self.headers.get("Content-Length") or "0"
        try:
            length = int(length_text)
        except ValueError:
            self._send(
                Response(
                    400,
                    b'{"kind":"Status","apiVersion":"v1","status":"Failure","code":400,'
                    b'"reason":"BadRequest","message":"invalid Content-Length"}',
                )
            )
            return
        if length > MAX_BODY_BYTES:
            self._send(
                Response(
                    413,
                    json.dumps(
                        {
                            "kind": "Status",
                            "apiVersion": "v1",
                            "status": "Failure",
                            "code": 413,
                            "reason": "RequestEntityTooLarge",
                            "message": "the request body is too large",
                        }
                    ).encode(),
                )
            )
            return
        body = self.rfile.read(length) if length > 0 else b""
        request = Request(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=dict(self.headers.items()),
            body=body,
        )
        self._send(type(self).handle_request_fn(request))

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Cache-Control", "no-cache, private")
        if response.stream is None:
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for chunk in response.stream:
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch


class LoopbackServer:
    """Serves `handler` on 127.0.0.1 in daemon threads."""

    def __init__(self, handler: Handler, port: int = 0, host: str = "127.0.0.1") -> None:
        request_handler = type(
            "StandinRequestHandler", (_RequestHandler,), {"handle_request_fn": staticmethod(handler)}
        )
        self._httpd = ThreadingHTTPServer((host, port), request_handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, name="kube-standin-http", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
