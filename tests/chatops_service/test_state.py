"""The state store: the same behaviour in memory and on the Firestore emulator."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from chatops_service.state import FirestoreState, MemoryState, ThreadRecord


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _firestore_state(clock: FakeClock) -> FirestoreState:
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import firestore

    client = firestore.Client(project="chatops-test", credentials=AnonymousCredentials())
    return FirestoreState("chatops-test", prefix=f"t{uuid.uuid4().hex[:8]}", client=client, clock=clock)


@pytest.fixture(params=["memory", pytest.param("firestore", marks=pytest.mark.emulator)])
def store(request: pytest.FixtureRequest) -> tuple[Any, FakeClock]:
    clock = FakeClock()
    if request.param == "memory":
        return MemoryState(clock=clock), clock
    # The shared emulator fixture (tests/conftest.py) sets FIRESTORE_EMULATOR_HOST, and skips with
    # a reason when gcloud is absent (or fails under CI, where the emulator is required).
    request.getfixturevalue("firestore_env")
    return _firestore_state(clock), clock


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
    latest = '{"notification_id":"n2","incident":{"incident_id":"0.inc"}}'
    state.put_thread(
        "0.inc", "oncall", ThreadRecord("C1", "1763900001.000100", ("12:00 opened", "12:05 verified"), latest)
    )
    assert state.get_thread("0.inc", "oncall") == ThreadRecord(
        "C1", "1763900001.000100", ("12:00 opened", "12:05 verified"), latest
    )
    assert state.get_thread("0.inc", "other") is None
    assert state.acknowledged_by("0.inc") == ""
    state.acknowledge("0.inc", "alice")
    state.acknowledge("0.inc", "bob")  # the first acknowledgement stands
    assert state.acknowledged_by("0.inc") == "alice"
