"""The cloud token path: google-auth's Application Default Credentials against a loopback token endpoint.

A throwaway service-account key (generated here) points its ``token_uri`` at a local server that
answers the OAuth 2.0 JWT-bearer grant the way Google's token endpoint does; the access token it
hands out must be the bearer token that reaches the generateContent server.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from self_healing_service.reasoning import Disposition, IncidentContext, Reasoner, ReasoningPolicy
from self_healing_service.reasoning.vertex_client import google_auth_token_provider

ACCESS_TOKEN = "ya29.test-access-token-for-loopback"  # what the generateContent double expects


class TokenServer:
    def __init__(self) -> None:
        self.grants: list[dict[str, list[str]]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                form = urllib.parse.parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                server.grants.append(form)
                ok = form.get("grant_type") == ["urn:ietf:params:oauth:grant-type:jwt-bearer"] and "assertion" in form
                body = (
                    {"access_token": ACCESS_TOKEN, "expires_in": 3600, "token_type": "Bearer"}
                    if ok
                    else {"error": "invalid_grant", "error_description": "bad grant"}
                )
                payload = json.dumps(body).encode()
                self.send_response(200 if ok else 400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/token"
        threading.Thread(target=self.http.serve_forever, args=(0.02,), daemon=True).start()

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def token_server() -> Iterator[TokenServer]:
    server = TokenServer()
    yield server
    server.close()


@pytest.fixture
def adc_key_file(tmp_path: Path, token_server: TokenServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "acme-prod",
        "private_key_id": "0123456789abcdef",
        "private_key": pem,
        "client_email": "healer@acme-prod.iam.gserviceaccount.com",
        "client_id": "100000000000000000001",
        "token_uri": token_server.url,
    }
    path = tmp_path / "adc.json"
    path.write_text(json.dumps(info))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    return path


def test_default_credentials_token_reaches_vertex(
    adc_key_file: Path,
    token_server: TokenServer,
    vertex: Any,
    clock: Any,
    make_context: Callable[..., IncidentContext],
) -> None:
    policy = ReasoningPolicy(enabled=True, project="acme-prod", endpoint_base_url=vertex.base_url)
    reasoner = Reasoner(policy, token_provider=google_auth_token_provider(), clock=clock)
    vertex.script("good_plan.json", "good_plan.json")

    first = reasoner.reason(make_context(incident_id="a"))
    second = reasoner.reason(make_context(incident_id="b", kind="oom_killed"))

    assert first.disposition is Disposition.AUTO_RUN and second.disposition is Disposition.AUTO_RUN
    assert [r.headers["Authorization"] for r in vertex.requests] == [f"Bearer {ACCESS_TOKEN}"] * 2
    assert len(token_server.grants) == 1  # the token is reused while it is valid
    (grant,) = token_server.grants
    assert grant["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]


def test_missing_default_credentials_are_an_unavailable_fallback(
    tmp_path: Path, vertex: Any, monkeypatch: pytest.MonkeyPatch, make_context: Callable[..., IncidentContext]
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "missing.json"))
    policy = ReasoningPolicy(enabled=True, project="acme-prod", endpoint_base_url=vertex.base_url)
    outcome = Reasoner(policy, token_provider=google_auth_token_provider()).reason(make_context())
    assert outcome.fallback is not None
    assert outcome.fallback.reason == "unavailable"
    assert "access token" in outcome.fallback.detail
    assert vertex.requests == []
