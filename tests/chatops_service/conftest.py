"""Loopback stand-ins for Slack, Teams Workflows, the healer's control API and Google's token certs.

Each stand-in is a real HTTP server on 127.0.0.1 speaking the real wire format, and
records every request so tests can assert on what was actually sent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from google.auth import crypt, jwt

from chatops_service.app import create_app
from chatops_service.settings import Settings
from chatops_service.state import MemoryState
from healing_contract.control import ControlResult, parse_control_command
from healing_contract.notification import ContractError

DATA = Path(__file__).resolve().parents[1] / "data" / "chatops"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
LINK_KEY = "test-link-signing-key-0123456789"
HEALER_SA = "healer-run@acme-prod.iam.gserviceaccount.com"
NOTIFY_AUDIENCE = "https://chatops-notify.example.run.app"


# ---------------------------------------------------------------- generic recording server


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


Responder = Callable[[Recorded], tuple[int, dict[str, str], bytes]]


class RecordingServer:
    def __init__(self, responder: Responder) -> None:
        self.requests: list[Recorded] = []
        self._responder = responder
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                rec = Recorded(self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()), body)
                with outer._lock:
                    outer.requests.append(rec)
                status, headers, payload = outer._responder(rec)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = _serve
            do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def to(self, prefix: str) -> list[Recorded]:
        return [r for r in self.requests if r.path.startswith(prefix)]


def _json(status: int, doc: Any, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}, json.dumps(doc).encode()


# ---------------------------------------------------------------- Slack + Teams stand-in


class ChatStandIn:
    """Slack Web API (/api/<method>), Slack incoming webhooks (/services/...), response_url
    (/actions/...) and Teams Workflows (/workflows/...), with scripted failures per path prefix."""

    def __init__(self) -> None:
        self._ts = itertools.count(1)
        self.scripted: dict[str, list[tuple[int, dict[str, str], bytes]]] = {}
        self.usergroups: dict[str, list[str]] = {}
        self.server = RecordingServer(self._respond)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def requests(self) -> list[Recorded]:
        return self.server.requests

    def script(self, prefix: str, *responses: tuple[int, dict[str, str], bytes]) -> None:
        self.scripted.setdefault(prefix, []).extend(responses)

    def _respond(self, rec: Recorded) -> tuple[int, dict[str, str], bytes]:
        for prefix, queue in self.scripted.items():
            if rec.path.startswith(prefix) and queue:
                return queue.pop(0)
        if rec.path.startswith("/api/"):
            return self._web_api(rec)
        if rec.path.startswith(("/services/", "/actions/")):
            return 200, {"Content-Type": "text/html"}, b"ok"
        if rec.path.startswith("/workflows/"):
            return 202, {}, b""
        return 404, {}, b"no such path"

    def _web_api(self, rec: Recorded) -> tuple[int, dict[str, str], bytes]:
        if not rec.headers.get("Authorization", "").startswith("Bearer xoxb-"):
            return _json(200, {"ok": False, "error": "not_authed"})
        method = rec.path.removeprefix("/api/")
        if rec.body and rec.headers.get("Content-Type", "").startswith("application/json"):
            args = rec.json()
        else:
            args = {**{k: v[0] for k, v in rec.query.items()}, **(rec.form() if rec.body else {})}
        if method == "chat.postMessage":
            if not args.get("channel") or not (args.get("text") or args.get("blocks")):
                return _json(200, {"ok": False, "error": "no_text"})
            ts = f"1763900{next(self._ts):03d}.000100"
            return _json(200, {"ok": True, "channel": args["channel"], "ts": ts, "message": {"ts": ts}})
        if method == "chat.update":
            return _json(200, {"ok": True, "channel": args["channel"], "ts": args["ts"]})
        if method == "usergroups.users.list":
            group = args.get("usergroup", "")
            if group not in self.usergroups:
                return _json(200, {"ok": False, "error": "no_such_subteam"})
            return _json(200, {"ok": True, "users": self.usergroups[group]})
        return _json(200, {"ok": False, "error": "unknown_method"})

    def posts(self, method: str) -> list[dict[str, Any]]:
        return [r.json() for r in self.server.to(f"/api/{method}")]


# ---------------------------------------------------------------- healer control API stand-in


@dataclass
class HealerStandIn:
    """Speaks healing_contract.control; records commands; remembers silences like the healer will."""

    expected_token: str = ""
    commands: list[dict[str, Any]] = field(default_factory=list)
    silenced_until: dict[str, float] = field(default_factory=dict)
    applied_request_ids: set[str] = field(default_factory=set)
    fail_with: int = 0
    server: RecordingServer = field(init=False)

    def __post_init__(self) -> None:
        self.server = RecordingServer(self._respond)

    @property
    def url(self) -> str:
        return self.server.url

    def is_silenced(self, namespace: str, name: str, cluster: str = "") -> bool:
        key = "/".join((cluster or "*", namespace, name))
        return self.silenced_until.get(key, 0.0) > time.time()

    def would_act_on(self, namespace: str, name: str) -> bool:
        return not self.is_silenced(namespace, name)

    def _respond(self, rec: Recorded) -> tuple[int, dict[str, str], bytes]:
        if self.expected_token and rec.headers.get("Authorization") != f"Bearer {self.expected_token}":
            return _json(401, {"error": "missing or wrong ID token"})
        if self.fail_with:
            return _json(self.fail_with, {"error": "scripted failure"})
        if rec.path == "/control/v1/commands" and rec.method == "POST":
            try:
                command = parse_control_command(rec.json())
            except (ContractError, ValueError) as exc:
                return _json(400, {"error": str(exc)})
            self.commands.append(rec.json())
            if command.request_id in self.applied_request_ids:
                return _json(200, ControlResult(True, command.command, "already applied").to_dict())
            self.applied_request_ids.add(command.request_id)
            if command.command in ("silence", "pause") and command.target is not None:
                self.silenced_until[command.target.key()] = time.time() + (command.duration_seconds or 3600)
                detail = f"healer will not act on {command.target.key()} until expiry"
            elif command.command in ("resume", "unsilence") and command.target is not None:
                self.silenced_until.pop(command.target.key(), None)
                detail = "healing resumed"
            elif command.command == "approve" and command.incident_id == "0.unknown":
                return _json(409, {"detail": "no action is held for this incident"})
            else:
                detail = "recorded"
            return _json(200, ControlResult(True, command.command, detail).to_dict())
        if rec.path == "/control/v1/status":
            held = [
                {"target_key": k, "until": v, "actor": "alice (slack)", "reason": "pause"}
                for k, v in self.silenced_until.items()
            ]
            return _json(
                200, {"dry_run": True, "paused": held, "silenced": held, "pending_approvals": [], "recent": []}
            )
        if rec.path == "/control/v1/history":
            namespace, name = rec.query["namespace"][0], rec.query["name"][0]
            decision = {
                "decided_at": 1763900312.5,
                "outcome": "acted",
                "action": "restart",
                "reason": "policy:high-cpu",
                "target_key": f"prod-gke/{namespace}/{name}",
                "detail": "rollout restart; 2 of 2 replicas available",
            }
            return _json(200, {"decisions": [decision]})
        return _json(404, {"error": "not found"})


# ---------------------------------------------------------------- Google ID tokens


class TokenIssuer:
    """Signs RS256 ID tokens like Google's and serves the matching X.509 certs as {kid: pem}."""

    def __init__(self) -> None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-google-certs")])
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .sign(key, hashes.SHA256())
        )
        self.kid = "test-kid-1"
        pem_key = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self._signer = crypt.RSASigner.from_string(pem_key, key_id=self.kid)
        certs = {self.kid: cert.public_bytes(serialization.Encoding.PEM).decode()}
        self.server = RecordingServer(lambda rec: _json(200, certs, {"Cache-Control": "public, max-age=3600"}))

    @property
    def certs_url(self) -> str:
        return f"{self.server.url}/oauth2/v1/certs"

    def token(self, **overrides: Any) -> str:
        now = int(time.time())
        claims = {
            "iss": "https://accounts.google.com",
            "aud": NOTIFY_AUDIENCE,
            "azp": "1234567890",
            "sub": "1234567890",
            "email": HEALER_SA,
            "email_verified": True,
            "iat": now,
            "exp": now + 3600,
        }
        claims.update(overrides)
        return jwt.encode(self._signer, {k: v for k, v in claims.items() if v is not None}).decode()


# ---------------------------------------------------------------- helpers


def slack_headers(body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + ts.encode() + b":" + body
    signature = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def unused_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/workflows/unreachable"


def load_notification(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())


ROUTING_YAML = """
version: 1
destinations:
  oncall-slack:
    type: slack_bot
    channel: C0ALERTS
    bot_token_env: SLACK_BOT_TOKEN_ONCALL
    allowed_users: [U0SRE0001]
    allowed_groups: [S0ONCALL]
  payments-webhook:
    type: slack_webhook
    channel: C0PAYMENTS
    webhook_url_env: SLACK_WEBHOOK_PAYMENTS
    allowed_users: [U0PAY0001]
  ops-teams:
    type: teams_workflow
    workflow_url_env: TEAMS_WORKFLOW_OPS
routes:
  - name: payments
    match:
      namespace: [payments]
    destinations: [payments-webhook]
  - name: critical-to-teams
    match:
      severity: [critical]
    destinations: [oncall-slack, ops-teams]
  - name: checkout-team
    match:
      labels: {team: checkout}
    destinations: [oncall-slack]
default: [oncall-slack]
"""


@dataclass
class Harness:
    settings: Settings
    state: MemoryState
    sleeps: list[float]
    chat: ChatStandIn
    healer: HealerStandIn
    issuer: TokenIssuer
    app: Any

    @property
    def client(self) -> Any:
        return self.app.test_client()

    def notify(self, doc: dict[str, Any], *, token: str | None = None) -> Any:
        auth = token if token is not None else self.issuer.token()
        return self.client.post("/notify", json=doc, headers={"Authorization": f"Bearer {auth}"})


@pytest.fixture(scope="session")
def chat() -> Iterator[ChatStandIn]:
    server = ChatStandIn()
    yield server
    server.server.close()


@pytest.fixture(scope="session")
def issuer() -> Iterator[TokenIssuer]:
    tokens = TokenIssuer()
    yield tokens
    tokens.server.close()


@pytest.fixture
def healer() -> Iterator[HealerStandIn]:
    stand_in = HealerStandIn(expected_token="healer-id-token-for-tests")
    yield stand_in
    stand_in.server.close()


@pytest.fixture
def base_env(tmp_path: Path, chat: ChatStandIn, issuer: TokenIssuer, healer: HealerStandIn) -> dict[str, str]:
    routing = tmp_path / "routing.yaml"
    routing.write_text(ROUTING_YAML)
    return {
        "CHATOPS_ROUTES": "all",
        "CHATOPS_ROUTING_FILE": str(routing),
        "CHATOPS_NOTIFY_AUDIENCE": NOTIFY_AUDIENCE,
        "CHATOPS_HEALER_SERVICE_ACCOUNTS": HEALER_SA,
        "CHATOPS_OIDC_CERTS_URL": issuer.certs_url,
        "CHATOPS_HEALER_URL": healer.url,
        "CHATOPS_HEALER_AUDIENCE": healer.url,
        "CHATOPS_PUBLIC_URL": "https://chatops.example.com",
        "CHATOPS_LINK_SIGNING_KEY": LINK_KEY,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_BASE_URL": f"{chat.url}/api",
        "SLACK_BOT_TOKEN_ONCALL": "xoxb-test-oncall",
        "SLACK_WEBHOOK_PAYMENTS": f"{chat.url}/services/T0ACME/B0PAY/secret",
        "TEAMS_WORKFLOW_OPS": f"{chat.url}/workflows/ops/triggers/manual/paths/invoke?sig=secret",
        "CHATOPS_DELIVERY_ATTEMPTS": "3",
        "CHATOPS_BACKOFF_BASE_SECONDS": "0.25",
        "CHATOPS_HTTP_TIMEOUT_SECONDS": "2",
    }


@pytest.fixture
def make_harness(
    base_env: dict[str, str], chat: ChatStandIn, healer: HealerStandIn, issuer: TokenIssuer
) -> Callable[..., Harness]:
    def build(healer_token_source: Callable[[], str] | None = None, **env_overrides: str) -> Harness:
        """A ChatOps app wired to the stand-ins. To run against the real healer instead, pass
        ``CHATOPS_HEALER_URL=<its loopback URL>`` and a ``healer_token_source`` it accepts."""
        chat.server.requests.clear()
        chat.scripted.clear()
        settings = Settings.from_env({**base_env, **env_overrides})
        state = MemoryState()
        sleeps: list[float] = []
        app = create_app(
            settings,
            state=state,
            sleep=sleeps.append,
            healer_token_source=healer_token_source or (lambda: healer.expected_token),
        )
        return Harness(settings, state, sleeps, chat, healer, issuer, app)

    return build


@pytest.fixture
def harness(make_harness: Callable[..., Harness]) -> Harness:
    return make_harness()


@pytest.fixture
def load() -> Callable[[str], dict[str, Any]]:
    return load_notification


@pytest.fixture
def unreachable_url() -> str:
    return unused_port_url()


@pytest.fixture
def sign() -> Callable[..., dict[str, str]]:
    return slack_headers
