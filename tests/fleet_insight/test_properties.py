"""Invariants that must hold for any input: scores stay in range, patches never ask for
requests above limits, OOMs never lower the memory limit, quantities round up."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from fleet_insight.health import Signals, score
from fleet_insight.quantity import MI, format_cpu, format_memory, parse_cpu, parse_memory
from fleet_insight.resources import (
    DEFAULT_POLICY,
    ContainerResources,
    DeploymentAdvice,
    UsageHistory,
    advise_container,
    recommend_memory_limit,
    strategic_merge_patch,
)

utilisation = st.lists(st.floats(min_value=0.0, max_value=1.2, allow_nan=False), max_size=300)
memory_bytes = st.integers(min_value=16 * MI, max_value=32 * 1024 * MI)
cores = st.floats(min_value=0.005, max_value=16.0, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    windows=st.integers(0, 5000),
    data=st.data(),
    hours=st.floats(min_value=0.01, max_value=24 * 400, allow_nan=False),
)
def test_score_is_none_or_within_0_and_100(windows: int, data: st.DataObject, hours: float) -> None:
    small = st.integers(0, 10_000)
    attempts = data.draw(st.integers(0, 100))
    signals = Signals(
        windows=windows,
        ready_windows=data.draw(st.integers(0, windows)),
        restarts=data.draw(small),
        ooms=data.draw(small),
        pressure_windows=data.draw(st.integers(0, windows)),
        scored=(scored := data.draw(st.integers(0, 5000))),
        anomalies=data.draw(st.integers(0, scored)),
        incidents=data.draw(st.integers(attempts, attempts + 100)),
        attempts=attempts,
        held=data.draw(st.integers(0, attempts)),
    )
    result = score(signals, hours)
    if signals.has_data:
        assert result.score is not None and 0.0 <= result.score <= 100.0
    else:
        assert result.score is None
    assert all(v is None or 0.0 <= v <= 1.0 for v in result.components.values())


@settings(max_examples=200, deadline=None)
@given(usage=utilisation, limit=memory_bytes, ooms=st.integers(1, 50))
def test_oom_never_lowers_the_memory_limit(usage: list[float], limit: int, ooms: int) -> None:
    rec = recommend_memory_limit([u * limit for u in usage], limit, ooms)
    assert rec.value is not None and rec.value >= limit
    assert rec.value <= max(limit, DEFAULT_POLICY.max_memory_bytes)


@settings(max_examples=200, deadline=None)
@given(
    cpu_mean=utilisation,
    cpu_spread=st.floats(0, 0.5),
    mem_mean=utilisation,
    mem_spread=st.floats(0, 0.3),
    cpu_limit=cores,
    cpu_req_fraction=st.floats(0.05, 1.0),
    mem_limit=memory_bytes,
    mem_req_fraction=st.floats(0.05, 1.0),
    ooms=st.integers(0, 5),
)
def test_patches_never_request_more_than_the_limit(
    cpu_mean: list[float],
    cpu_spread: float,
    mem_mean: list[float],
    mem_spread: float,
    cpu_limit: float,
    cpu_req_fraction: float,
    mem_limit: int,
    mem_req_fraction: float,
    ooms: int,
) -> None:
    container = ContainerResources(
        "app", cpu_limit * cpu_req_fraction, cpu_limit, int(mem_limit * mem_req_fraction), mem_limit
    )
    usage = UsageHistory(
        cpu_mean=cpu_mean,
        cpu_max=[u + cpu_spread for u in cpu_mean],
        memory_mean=mem_mean,
        memory_max=[min(u + mem_spread, 1.0) for u in mem_mean],
        oom_events=ooms,
    )
    advice = advise_container(container, usage)
    patch = strategic_merge_patch(DeploymentAdvice("c", "ns", "d", (advice,)))
    if patch is None:
        assert not advice.changed
        return
    (patched,) = patch["spec"]["template"]["spec"]["containers"]
    requests, limits = patched["resources"]["requests"], patched["resources"]["limits"]
    assert parse_cpu(requests["cpu"]) <= parse_cpu(limits["cpu"])
    assert parse_memory(requests["memory"]) <= parse_memory(limits["memory"])
    if ooms:
        assert parse_memory(limits["memory"]) >= mem_limit


@given(st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_cpu_formatting_rounds_up(value: float) -> None:
    assert parse_cpu(format_cpu(value)) >= value - 1e-9


@given(st.integers(min_value=0, max_value=2**50))
def test_memory_formatting_rounds_up(value: int) -> None:
    assert parse_memory(format_memory(value)) >= value
