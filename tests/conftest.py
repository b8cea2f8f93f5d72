"""Shared fixtures: the gcloud emulators, a Google-style token signer, loopback servers.

Emulator tests skip with a reason where `gcloud` is absent; under CI (CI=true) or with
REQUIRE_EMULATORS=1 a missing emulator fails the run instead, because our machines have it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local_scenario.emulators import Emulator, EmulatorUnavailable, gcloud_path, start_emulator
from local_scenario.http_receiver import Answer, HttpReceiver, Received

REQUIRE_EMULATORS = os.environ.get("CI", "").lower() == "true" or os.environ.get("REQUIRE_EMULATORS") == "1"


def _need_gcloud() -> None:
    if gcloud_path() is None:
        message = "gcloud (with the Pub/Sub and Firestore emulators) is not installed"
        if REQUIRE_EMULATORS:
            pytest.fail(message + " but CI/REQUIRE_EMULATORS requires the emulator tests to run")
        pytest.skip(message)


def _start(kind: str, tmp: Path) -> Emulator:
    _need_gcloud()
    try:
        return start_emulator(kind, tmp)
    except EmulatorUnavailable as exc:
        if REQUIRE_EMULATORS:
            pytest.fail(str(exc))
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def pubsub_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    emulator = _start("pubsub", tmp_path_factory.mktemp("pubsub"))
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(scope="session")
def firestore_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    emulator = _start("firestore", tmp_path_factory.mktemp("firestore"))
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture
def firestore_env(firestore_emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", firestore_emulator.host_port)
    return firestore_emulator.host_port


# ----------------------------------------------------------------------------- tokens


@dataclass
class TokenSigner:
    """Signs RS256 ID tokens the way Google does and serves the certificates on loopback."""

    key: Any
    kid: str
    certs_url: str

    def token(
        self,
        *,
        audience: str,
        email: str,
        email_verified: bool = True,
        issuer: str = "https://accounts.google.com",
        expires_in: int = 3600,
        key: Any = None,
    ) -> str:
        from google.auth import crypt, jwt

        now = int(time.time())
        payload = {
            "iss": issuer,
            "aud": audience,
            "azp": "1234567890",
            "sub": "1234567890",
            "email": email,
            "email_verified": email_verified,
            "iat": now,
            "exp": now + expires_in,
        }
        from cryptography.hazmat.primitives import serialization

        pem = (key or self.key).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        signer = crypt.RSASigner.from_string(pem, key_id=self.kid)
        return jwt.encode(signer, payload).decode()


def _self_signed(key: Any) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-signer")])
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
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="session")
def token_signer() -> Iterator[TokenSigner]:
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = "test-kid-1"
    certs = json.dumps({kid: _self_signed(key).decode()}).encode()
    receiver = HttpReceiver(default=Answer(200, certs, (("Content-Type", "application/json"),))).start()
    try:
        yield TokenSigner(key, kid, receiver.url + "/oauth2/v1/certs")
    finally:
        receiver.stop()


@pytest.fixture
def chatops_receiver() -> Iterator[HttpReceiver]:
    with HttpReceiver(default=Answer(204, b"")) as receiver:
        yield receiver


__all__ = ["Received", "TokenSigner"]
