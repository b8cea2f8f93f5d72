"""Fixtures: a loopback server speaking Vertex AI's generateContent REST API, and incident contexts.

The server checks requests the way the real endpoint does where it matters to us (path, bearer
token, JSON body with contents / systemInstruction / generationConfig, a responseSchema in the
API's Schema subset) and answers with recorded GenerateContentResponse bodies from
tests/data/vertex/, with a scripted HTTP status and delay.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from self_healing_service.reasoning import Reasoner, ReasoningPolicy
from self_healing_service.reasoning.context import (
    ContainerSpec,
    EventRecord,
    IncidentContext,
    PodStatus,
    RolloutRevision,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "vertex"
TOKEN = "ya29.test-access-token-for-loopback"
PATH = re.compile(r"^/v1/projects/([^/]+)/locations/([^/]+)/publishers/google/models/([^/:]+):generateContent$")
SCHEMA_TYPES = {"STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT"}
SCHEMA_KEYS = {
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "items",
    "minItems",
    "maxItems",
    "properties",
    "required",
    "propertyOrdering",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "anyOf",
    "example",
    "default",
}


def recorded(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / name).read_text())
    return loaded


@dataclass
class Reply:
    body: dict[str, Any]
    status: int = 200
    delay_seconds: float = 0.0
    trickle_seconds: float = 0.0  # send the body in small pieces, this long apart


@dataclass
class Captured:
    path: str
    headers: dict[str, str]
    raw_body: bytes

    @property
    def json(self) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads(self.raw_body)
        return loaded


def _camel(key: str) -> str:
    # Proto JSON accepts a field's proto name (max_items) as well as its JSON name (maxItems).
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), key)


def _schema_problem(schema: object, where: str) -> str | None:
    if not isinstance(schema, dict):
        return f"{where}: schema must be an object"
    schema = {_camel(key): value for key, value in schema.items()}
    unknown = set(schema) - SCHEMA_KEYS
    if unknown:
        return f"{where}: unknown schema field(s) {sorted(unknown)}"
    kind = schema.get("type")
    if kind not in SCHEMA_TYPES:
        return f"{where}.type: {kind!r} is not a Type"
    if "enum" in schema and (kind != "STRING" or not schema["enum"]):
        return f"{where}.enum: only a non-empty list on STRING"
    if kind == "OBJECT":
        props = schema.get("properties")
        if not isinstance(props, dict) or not props:
            return f"{where}.properties: should be non-empty for OBJECT type"
        for name in schema.get("required", []):
            if name not in props:
                return f"{where}.required: {name!r} is not a property"
        for name, sub in props.items():
            problem = _schema_problem(sub, f"{where}.properties.{name}")
            if problem:
                return problem
    if kind == "ARRAY":
        return _schema_problem(schema.get("items"), f"{where}.items")
    return None


REQUEST_KEYS = {"contents", "systemInstruction", "generationConfig", "safetySettings", "tools", "toolConfig",
                "labels", "cachedContent", "modelArmorConfig"}  # fmt: skip
GENERATION_CONFIG_KEYS = {"temperature", "topP", "topK", "candidateCount", "maxOutputTokens", "stopSequences",
                          "presencePenalty", "frequencyPenalty", "seed", "responseMimeType", "responseSchema",
                          "responseJsonSchema", "responseLogprobs", "logprobs", "thinkingConfig",
                          "responseModalities", "mediaResolution", "routingConfig", "speechConfig"}  # fmt: skip


def _request_problem(body: object) -> str | None:
    if not isinstance(body, dict):
        return "request body must be a JSON object"
    unknown = {_camel(k) for k in body} - REQUEST_KEYS
    if unknown:
        return f"Invalid JSON payload received. Unknown name(s) {sorted(unknown)}"
    unknown = {_camel(k) for k in body.get("generationConfig", {})} - GENERATION_CONFIG_KEYS
    if unknown:
        return f"Invalid JSON payload received. Unknown name(s) in generationConfig {sorted(unknown)}"
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        return "contents: at least one Content is required"
    for i, content in enumerate(contents):
        if content.get("role") not in ("user", "model"):
            return f"contents[{i}].role: must be user or model"
        parts = content.get("parts")
        if not isinstance(parts, list) or not parts or not all(isinstance(p.get("text"), str) for p in parts):
            return f"contents[{i}].parts: text parts are required"
    system = body.get("systemInstruction", {})
    if not all(isinstance(p.get("text"), str) for p in system.get("parts", [])):
        return "systemInstruction.parts: only text is allowed"
    config = body.get("generationConfig", {})
    schema = config.get("responseSchema")
    if schema is not None:
        if config.get("responseMimeType") != "application/json":
            return "generationConfig.responseSchema needs responseMimeType application/json"
        return _schema_problem(schema, "generationConfig.responseSchema")
    return None


def _error(code: int, status: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status}}


class FakeVertex:
    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.requests: list[Captured] = []
        self.release = threading.Event()
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet test output
                pass

            def _send(self, status: int, body: dict[str, Any], trickle_seconds: float = 0.0) -> None:
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if not trickle_seconds:
                    self.wfile.write(payload)
                    return
                for start in range(0, len(payload), 64):
                    self.wfile.write(payload[start : start + 64])
                    self.wfile.flush()
                    if fake.release.wait(trickle_seconds):
                        return

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with fake._lock:
                    fake.requests.append(Captured(self.path, dict(self.headers), raw))
                    reply = fake.replies.pop(0) if fake.replies else None
                if not PATH.match(self.path):
                    return self._send(404, _error(404, "NOT_FOUND", f"unknown path {self.path}"))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._send(401, _error(401, "UNAUTHENTICATED", "missing or wrong bearer token"))
                if not self.headers.get("Content-Type", "").startswith("application/json"):
                    return self._send(400, _error(400, "INVALID_ARGUMENT", "expected application/json"))
                try:
                    problem = _request_problem(json.loads(raw))
                except ValueError:
                    problem = "request body is not JSON"
                if problem:
                    return self._send(400, _error(400, "INVALID_ARGUMENT", problem))
                if reply is None:
                    return self._send(500, _error(500, "INTERNAL", "the test scripted no reply"))
                if reply.delay_seconds:
                    fake.release.wait(reply.delay_seconds)
                # The client may have given up (timeout): that is the point of a slow reply.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._send(reply.status, reply.body, reply.trickle_seconds)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()

    def script(self, *names: str) -> None:
        """Queue recorded bodies (file names under tests/data/vertex/), each answered with HTTP 200."""
        for name in names:
            self.replies.append(Reply(recorded(name)))

    def reply(self, name: str, status: int = 200, delay_seconds: float = 0.0, trickle_seconds: float = 0.0) -> None:
        """Queue one recorded body with a given HTTP status, sent after ``delay_seconds`` (and trickled)."""
        self.replies.append(Reply(recorded(name), status, delay_seconds, trickle_seconds))

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def vertex() -> Iterator[FakeVertex]:
    server = FakeVertex()
    yield server
    server.close()


class FakeClock:
    """A monotonic clock the test moves by hand (for hourly budgets, cache TTL and the circuit)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# Secrets planted in the context; none may reach the model.
PLANTED_SECRETS = {
    "env_password": "hunter2-S3cr3t!pw",
    "env_token": "tok_9f8e7d6c5b4a3f2e1d0c",
    "env_dsn": "postgres://checkout:pa55w0rd-db@db.internal:5432/shop",
    "log_bearer": "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJjaGVja291dCJ9.c2lnbmF0dXJlLXZhbHVl",
    "log_api_key": "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
    "log_blob": "U2VjcmV0UGF5bG9hZDEyMzQ1Njc4OTBhYmNkZWZnaGlqa2xtbm9w",
    "event_password": "Tr0ub4dor&3",
}


def _build_context(**overrides: Any) -> IncidentContext:
    s = PLANTED_SECRETS
    crashing = "checkout-7d9f8c6b5-x2x4z"
    values: dict[str, Any] = {
        "incident_id": "0.ntn7j2k1r9xz",
        "kind": "crash_loop",
        "namespace": "shop",
        "deployment": "checkout",
        "cluster": "prod-europe-west1",
        "pod": crashing,
        "container": "checkout",
        "metric_type": "kubernetes.io/container/restart_count",
        "started_at": "2026-11-23T14:59:30Z",
        "observed_value": 7.0,
        "threshold_value": 3.0,
        "anomaly_score": 0.93,
        "top_features": {"memory_working_set_ratio": 0.61, "restart_delta": 0.27, "cpu_ratio": 0.04},
        "rollout_history": (
            RolloutRevision(11, "2026-11-20T09:12:00Z", ("europe-docker.pkg.dev/acme/shop/checkout:1.4.0",), "1.4.0"),
            RolloutRevision(
                12,
                "2026-11-23T14:51:30Z",
                ("europe-docker.pkg.dev/acme/shop/checkout:1.5.0",),
                "deploy 1.5.0 from pipeline 8812",
            ),
        ),
        "pod_statuses": (
            PodStatus(crashing, "Running", False, 7, "OOMKilled", "CrashLoopBackOff", "gke-prod-pool-1-5f2a9c1e-k8rt"),
            PodStatus("checkout-7d9f8c6b5-q7w2n", "Running", True, 2, "OOMKilled", "", "gke-prod-pool-1-5f2a9c1e-m3zd"),
        ),
        "last_log_lines": {
            crashing: (
                "2026-11-23T14:55:01Z INFO starting checkout 1.5.0",
                f"2026-11-23T14:55:02Z DEBUG connecting to {s['env_dsn']}",
                f"2026-11-23T14:55:02Z DEBUG outbound call headers Authorization: Bearer {s['log_bearer']}",
                f"2026-11-23T14:55:03Z WARN payment client configured with key={s['log_api_key']}",
                f"2026-11-23T14:55:03Z DEBUG session payload {s['log_blob']}",
                f"2026-11-23T14:55:04Z DEBUG db password is {s['env_password']}",
                "2026-11-23T14:58:40Z WARN heap 1.9Gi of 2Gi",
                "2026-11-23T14:58:52Z ERROR java.lang.OutOfMemoryError: Java heap space",
            ),
        },
        "events": (
            EventRecord(
                "Warning",
                "BackOff",
                "Back-off restarting failed container checkout",
                31,
                "2026-11-23T15:01:10Z",
                crashing,
            ),
            EventRecord(
                "Normal", "Pulled", "Successfully pulled image checkout:1.5.0", 7, "2026-11-23T15:00:00Z", crashing
            ),
            EventRecord(
                "Warning",
                "FailedPostStartHook",
                f"hook failed: curl -u admin:{s['event_password']} http://localhost/warm",
                2,
                "2026-11-23T14:59:00Z",
                crashing,
            ),
        ),
        "containers": (
            ContainerSpec(
                "checkout",
                "europe-docker.pkg.dev/acme/shop/checkout:1.5.0",
                {"limits": {"memory": "2Gi", "cpu": "1"}, "requests": {"memory": "1Gi", "cpu": "500m"}},
                {
                    "DB_PASSWORD": s["env_password"],
                    "PAYMENT_API_TOKEN": s["env_token"],
                    "DATABASE_URL": s["env_dsn"],
                    "LOG_LEVEL": "debug",
                },
            ),
        ),
    }
    values.update(overrides)
    return IncidentContext(**values)


@pytest.fixture
def make_context() -> Callable[..., IncidentContext]:
    return _build_context


@pytest.fixture
def planted_secrets() -> dict[str, str]:
    return dict(PLANTED_SECRETS)


@pytest.fixture
def make_reasoner(vertex: FakeVertex, clock: FakeClock) -> Callable[..., Reasoner]:
    """A reasoner pointed at the loopback server, enabled, with a static token; overrides go to the policy."""

    def build(token_provider: Callable[[], str] | None = None, **overrides: Any) -> Reasoner:
        settings: dict[str, Any] = {
            "enabled": True,
            "project": "acme-prod",
            "location": "europe-west1",
            "endpoint_base_url": vertex.base_url,
            "timeout_seconds": 5.0,
        }
        settings.update(overrides)
        return Reasoner(ReasoningPolicy(**settings), token_provider=token_provider or (lambda: TOKEN), clock=clock)

    return build
