from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from self_healing_service.reasoning.analyzer import fingerprint, summarise
from self_healing_service.reasoning.context import (
    ContainerSpec,
    EventRecord,
    IncidentContext,
    PodStatus,
)

ContextFactory = Callable[..., IncidentContext]


def test_summary_has_what_a_human_would_look_at(make_context: ContextFactory) -> None:
    summary = summarise(make_context(), 8192)
    data = summary.data

    assert data["target"] == {
        "cluster": "prod-europe-west1",
        "namespace": "shop",
        "deployment": "checkout",
        "pod": "checkout-7d9f8c6b5-x2x4z",
        "container": "checkout",
    }
    assert data["incident"]["kind"] == "crash_loop"
    assert [f["feature"] for f in data["incident"]["top_features"]] == [
        "memory_working_set_ratio",
        "restart_delta",
        "cpu_ratio",
    ]
    assert [r["revision"] for r in data["rollout_history"]] == [12, 11]  # newest first
    assert data["pods"][0]["name"] == "checkout-7d9f8c6b5-x2x4z"  # the incident's pod first
    assert data["pods"][0]["last_termination_reason"] == "OOMKilled"
    assert data["events"][0]["type"] == "Warning"
    assert data["containers"][0]["env_names"] == ["DATABASE_URL", "DB_PASSWORD", "LOG_LEVEL", "PAYMENT_API_TOKEN"]
    assert data["containers"][0]["resources"]["limits"]["memory"] == "2Gi"
    assert "OutOfMemoryError" in data["logs"]["checkout-7d9f8c6b5-x2x4z"][-1]
    assert summary.truncated is False
    assert summary.size_bytes == len(summary.to_json().encode())


def test_summary_never_contains_env_values_or_planted_secrets(
    make_context: ContextFactory, planted_secrets: dict[str, str]
) -> None:
    text = summarise(make_context(), 8192).to_json()
    for where, secret in planted_secrets.items():
        assert secret not in text, where
    assert "debug" not in json.dumps(summarise(make_context(), 8192).data["containers"])  # LOG_LEVEL's value


def _huge_context(make_context: ContextFactory) -> IncidentContext:
    base = make_context()
    target = base.pod
    noise = tuple(f"2026-11-23T14:{i % 60:02d}:00Z INFO request {i} served in 12 ms" for i in range(400))
    lines = (
        *noise[:200],
        "2026-11-23T14:57:00Z ERROR connection refused by payments:8443",
        *noise[200:],
        "2026-11-23T14:58:52Z ERROR java.lang.OutOfMemoryError: Java heap space",
    )
    pods = tuple(
        PodStatus(f"checkout-7d9f8c6b5-p{i:03d}", "Running", True, 0, "", "", "gke-prod-pool-1-5f2a9c1e-m3zd")
        for i in range(60)
    )
    events = (
        *(EventRecord("Normal", "Scheduled", "x" * 500, 1, f"2026-11-23T14:{i % 60:02d}:00Z", "p") for i in range(80)),
        EventRecord("Warning", "BackOff", "Back-off restarting failed container", 40, "2026-11-23T15:00:00Z"),
    )
    other_logs = {f"checkout-7d9f8c6b5-p{i:03d}": noise[:50] for i in range(10)}
    return replace(
        base,
        pod_statuses=base.pod_statuses + pods,
        last_log_lines={**other_logs, target: lines},
        events=events,
    )


def test_large_context_is_cut_to_size_keeping_the_useful_parts(make_context: ContextFactory) -> None:
    ctx = _huge_context(make_context)
    full = summarise(ctx, 1_000_000)
    small = summarise(ctx, 4096)

    assert full.size_bytes > 4096
    assert small.size_bytes <= 4096
    assert len(small.to_json().encode()) <= 4096
    assert small.truncated is True
    data = small.data
    assert data["omitted"]["pods"] > 0 and data["omitted"]["log_lines"] > 0
    assert data["pods"][0]["name"] == ctx.pod  # the crashing pod survives the cut
    kept = data["logs"][ctx.pod]
    assert "OutOfMemoryError" in kept[-1]  # the last line, what the process said before dying
    assert any("connection refused" in line for line in kept)  # errors beat routine lines
    assert data["events"][0]["reason"] == "BackOff"  # warnings beat normal events
    assert small.fingerprint == full.fingerprint


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    budget=st.integers(min_value=1024, max_value=12000),
    line=st.text(min_size=0, max_size=400),
    lines=st.integers(min_value=0, max_value=200),
    secret=st.text(alphabet="abcdefXYZ0123456789!#%", min_size=8, max_size=40).filter(
        lambda s: any(c.isdigit() for c in s)
    ),
)
def test_summary_always_fits_and_never_carries_env_values(
    make_context: ContextFactory, budget: int, line: str, lines: int, secret: str
) -> None:
    base = make_context()
    ctx = replace(
        base,
        containers=(ContainerSpec("checkout", "img:1", {}, {"SECRET_VALUE": secret}),),
        last_log_lines={base.pod: tuple(f"{line} {secret} {i}" for i in range(lines))},
        events=(EventRecord("Warning", "Failed", f"{line} {secret}", 1, "2026-11-23T15:00:00Z"),),
    )
    summary = summarise(ctx, budget)
    assert summary.size_bytes <= budget
    assert secret not in summary.to_json()


def test_fingerprint_ignores_the_particular_alert_but_not_the_situation(make_context: ContextFactory) -> None:
    base = fingerprint(make_context())
    assert fingerprint(make_context(incident_id="another", observed_value=42.0, anomaly_score=0.5)) == base
    assert fingerprint(make_context(kind="oom_killed")) != base
    assert fingerprint(make_context(deployment="cart")) != base
    ctx = make_context()
    new_image = replace(ctx.containers[0], image="europe-docker.pkg.dev/acme/shop/checkout:1.6.0")
    assert fingerprint(replace(ctx, containers=(new_image,))) != base
    assert fingerprint(replace(ctx, top_features={"cpu_ratio": 0.9})) != base
