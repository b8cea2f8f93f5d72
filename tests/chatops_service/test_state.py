"""The state store: the same behaviour in memory and on the Firestore emulator."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from chatops_service.state import FirestoreState, MemoryState, ThreadRecord


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def chatops_firestore_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    gcloud = shutil.which("gcloud")
    if gcloud is None:
        pytest.skip("gcloud is not installed, so the Firestore emulator cannot run")
    host = f"127.0.0.1:{_free_port()}"
    log = (tmp_path_factory.mktemp("firestore") / "emulator.log").open("w")
    proc = subprocess.Popen(
        [gcloud, "beta", "emulators", "firestore", "start", f"--host-port={host}", "--quiet"],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"http://{host}/", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.skip(f"the Firestore emulator did not start (see {log.name})")
            time.sleep(0.2)
        yield host
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def _firestore_state(host: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> FirestoreState:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import firestore

    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", host)  # read by the client library
    client = firestore.Client(project="chatops-test", credentials=AnonymousCredentials())
    return FirestoreState("chatops-test", prefix=f"t{uuid.uuid4().hex[:8]}", client=client, clock=clock)


@pytest.fixture(params=["memory", pytest.param("firestore", marks=pytest.mark.emulator)])
def store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, FakeClock]:
    clock = FakeClock()
    if request.param == "memory":
        return MemoryState(clock=clock), clock
    host = request.getfixturevalue("chatops_firestore_host")
    return _firestore_state(host, clock, monkeypatch), clock


def test_claims_are_first_wins_until_they_expire(store) -> None:
    state, clock = store
    assert state.claim("notify:n1:slack", 60) is True
    assert state.claim("notify:n1:slack", 60) is False
    assert state.is_claimed("notify:n1:slack") is True
    assert state.claim("notify:n1:teams", 60) is True
    clock.now += 61
    assert state.is_claimed("notify:n1:slack") is False
    assert state.claim("notify:n1:slack", 60) is True


def test_released_claims_can_be_taken_again(store) -> None:
    state, _ = store
    assert state.claim("k/with/slashes and spaces", 60) is True
    state.release("k/with/slashes and spaces")
    assert state.claim("k/with/slashes and spaces", 60) is True


def test_threads_and_acknowledgements(store) -> None:
    state, _ = store
    assert state.get_thread("0.inc", "oncall") is None
    state.put_thread("0.inc", "oncall", ThreadRecord("C1", "1763900001.000100", ("12:00 opened",)))
    state.put_thread("0.inc", "oncall", ThreadRecord("C1", "1763900001.000100", ("12:00 opened", "12:05 verified")))
    assert state.get_thread("0.inc", "oncall") == ThreadRecord(
        "C1", "1763900001.000100", ("12:00 opened", "12:05 verified")
    )
    assert state.get_thread("0.inc", "other") is None
    assert state.acknowledged_by("0.inc") == ""
    state.acknowledge("0.inc", "alice")
    state.acknowledge("0.inc", "bob")  # the first acknowledgement stands
    assert state.acknowledged_by("0.inc") == "alice"
