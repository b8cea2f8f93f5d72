from __future__ import annotations

from typing import Any

from self_healing_service.reasoning.cost_control import AnswerCache, CallBudget, Circuit


def test_budget_per_incident_and_sliding_hour(clock: Any) -> None:
    budget = CallBudget(per_incident=2, per_hour=3, clock=clock)
    assert budget.try_acquire("a") is None
    assert budget.try_acquire("a") is None
    refused = budget.try_acquire("a")
    assert refused is not None and "incident a" in refused
    assert budget.try_acquire("b") is None
    hourly = budget.try_acquire("c")
    assert hourly is not None and "last hour" in hourly
    assert budget.calls_in_last_hour() == 3

    clock.advance(3599)
    assert budget.try_acquire("c") is not None  # the first call is not an hour old yet
    clock.advance(1)
    assert budget.try_acquire("c") is None  # the hour slid past the first call
    assert budget.try_acquire("a") is not None  # the incident's own budget does not reset


def test_cache_expires_and_stays_bounded(clock: Any) -> None:
    cache: AnswerCache[str] = AnswerCache(ttl_seconds=60, clock=clock, max_entries=2)
    cache.put("x", "plan-x")
    assert cache.get("x") == "plan-x"
    clock.advance(60)
    assert cache.get("x") is None
    cache.put("a", "1")
    cache.put("b", "2")
    cache.put("c", "3")
    assert len(cache) == 2
    assert cache.get("a") is None and cache.get("c") == "3"


def test_circuit_opens_lets_one_trial_through_and_closes(clock: Any) -> None:
    circuit = Circuit(failure_threshold=2, open_seconds=30, clock=clock)
    circuit.record_failure()
    assert circuit.allow() is None  # one failure is not enough
    circuit.record_failure()
    assert circuit.is_open
    refused = circuit.allow()
    assert refused is not None and "2 times" in refused

    clock.advance(30)
    assert circuit.allow() is None  # the trial call
    assert circuit.allow() is not None  # only one at a time
    circuit.record_failure()
    assert circuit.allow() is not None  # failed trial: open again
    clock.advance(30)
    assert circuit.allow() is None
    circuit.record_success()
    assert not circuit.is_open
    assert circuit.allow() is None and circuit.allow() is None


def test_cancelled_trial_does_not_block_the_next(clock: Any) -> None:
    circuit = Circuit(failure_threshold=1, open_seconds=10, clock=clock)
    circuit.record_failure()
    clock.advance(10)
    assert circuit.allow() is None
    circuit.cancel()
    assert circuit.allow() is None
