"""Resource advice: known answers for OOMs, idle and throttled workloads, and patch shape."""

from __future__ import annotations

import json
import shlex

import pytest

from fleet_insight.quantity import GI, MI, QuantityError, format_cpu, format_memory, parse_cpu, parse_memory
from fleet_insight.resources import (
    AdvicePolicy,
    ContainerResources,
    DeploymentAdvice,
    UsageHistory,
    advice_rows,
    advise_container,
    containers_from_deployment,
    kubectl_patch_command,
    percentile,
    recommend_memory_limit,
    strategic_merge_patch,
)


def test_quantities_round_trip() -> None:
    assert parse_cpu("250m") == pytest.approx(0.25)
    assert parse_cpu("2") == 2.0
    assert parse_memory("512Mi") == 512 * MI
    assert parse_memory("1G") == 10**9
    assert parse_memory("1.5Gi") == 1536 * MI
    assert format_cpu(0.25) == "250m"
    assert format_cpu(0.2501) == "255m"  # rounds up to 5m steps
    assert format_cpu(2.0) == "2"
    assert format_memory(512 * MI) == "512Mi"
    assert format_memory(512 * MI + 1) == "513Mi"
    assert format_memory(2 * GI) == "2Gi"
    for bad in ("12XB", "abc", "-1", ""):
        with pytest.raises(QuantityError):
            parse_cpu(bad)


def test_percentile_matches_linear_interpolation() -> None:
    assert percentile([], 95) is None
    assert percentile([float("nan")], 50) is None
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert percentile(range(101), 99) == pytest.approx(99.0)


def test_oom_without_history_raises_limit_by_factor() -> None:
    rec = recommend_memory_limit([], 256 * MI, oom_events=1)
    assert rec.value == 384 * MI
    assert rec.changed and "OOM" in rec.reason


def test_oom_raise_is_capped() -> None:
    policy = AdvicePolicy(max_memory_bytes=300 * MI, min_memory_bytes=32 * MI)
    rec = recommend_memory_limit([], 256 * MI, oom_events=3, policy=policy)
    assert rec.value == 300 * MI
    assert "capped" in rec.reason
    at_ceiling = recommend_memory_limit([], 300 * MI, oom_events=1, policy=policy)
    assert at_ceiling.value == 300 * MI and not at_ceiling.changed
    assert "escalate" in at_ceiling.reason


def test_oom_never_lowers_even_with_low_history() -> None:
    rec = recommend_memory_limit([10 * MI] * 500, 256 * MI, oom_events=2)
    assert rec.value is not None and rec.value > 256 * MI


def test_idle_history_lowers_and_small_history_does_not() -> None:
    many = recommend_memory_limit([50 * MI] * 200, 1024 * MI, oom_events=0)
    assert many.value == 60 * MI and "lower" in many.reason
    few = recommend_memory_limit([50 * MI] * 5, 1024 * MI, oom_events=0)
    assert few.value == 1024 * MI and not few.changed


def test_within_tolerance_keeps_current() -> None:
    rec = recommend_memory_limit([210 * MI] * 200, 256 * MI, oom_events=0)  # 252Mi proposed
    assert rec.value == 256 * MI and "tolerance" in rec.reason


def test_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError, match="oom_events"):
        recommend_memory_limit([], 256 * MI, oom_events=-1)
    with pytest.raises(ValueError, match="current_limit"):
        recommend_memory_limit([], 0, oom_events=0)
    with pytest.raises(ValueError, match="max_raise_factor"):
        AdvicePolicy(oom_raise_factor=3.0, max_raise_factor=2.0)


def _always_oom_usage(n: int = 600) -> UsageHistory:
    return UsageHistory(
        cpu_mean=[0.3] * n, cpu_max=[0.5] * n, memory_mean=[0.9] * n, memory_max=[1.0] * n, oom_events=n // 20
    )


def test_always_oom_container_gets_more_memory() -> None:
    current = ContainerResources("app", 0.1, 0.5, 128 * MI, 256 * MI)
    advice = advise_container(current, _always_oom_usage())
    assert advice.memory_limit.value is not None and advice.memory_limit.value > 256 * MI
    assert advice.memory_request.value is not None and advice.memory_request.value >= 128 * MI
    assert advice.memory_request.value <= advice.memory_limit.value


def test_throttled_cpu_gets_higher_limit_and_unset_limits_are_kept() -> None:
    current = ContainerResources("app", 0.25, 0.5, 256 * MI, 512 * MI)
    n = 600
    pinned = UsageHistory(cpu_mean=[0.9] * n, cpu_max=[1.0] * n, memory_mean=[0.5] * n, memory_max=[0.55] * n)
    advice = advise_container(current, pinned)
    assert advice.cpu_limit.value is not None and advice.cpu_limit.value >= 0.75
    assert "pinned" in advice.cpu_limit.reason
    no_limits = advise_container(ContainerResources("app", cpu_request=0.1), pinned)
    assert no_limits.cpu_limit.value is None and "cannot be converted" in no_limits.cpu_limit.reason
    assert no_limits.memory_limit.value is None
    assert not no_limits.changed


def _deployment() -> dict[str, object]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "cart", "namespace": "shop"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "128Mi"},
                                "limits": {"cpu": "500m", "memory": "256Mi"},
                            },
                        },
                        {"name": "sidecar"},
                    ]
                }
            }
        },
    }


def test_patch_is_a_valid_strategic_merge_patch() -> None:
    namespace, name, containers = containers_from_deployment(_deployment())
    assert (namespace, name) == ("shop", "cart")
    advice = DeploymentAdvice(
        "c1", namespace, name, tuple(advise_container(c, _always_oom_usage()) for c in containers)
    )
    patch = strategic_merge_patch(advice)
    assert patch is not None
    assert set(patch) == {"spec"}
    patched = patch["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in patched] == ["app"]  # the sidecar has nothing to change
    resources = patched[0]["resources"]
    assert set(resources) == {"requests", "limits"}
    assert parse_memory(resources["limits"]["memory"]) > 256 * MI
    for section in resources.values():
        for key, quantity in section.items():
            assert key in {"cpu", "memory"}
            assert isinstance(quantity, str)
            (parse_cpu if key == "cpu" else parse_memory)(quantity)
    assert parse_memory(resources["requests"]["memory"]) <= parse_memory(resources["limits"]["memory"])
    assert parse_cpu(resources["requests"]["cpu"]) <= parse_cpu(resources["limits"]["cpu"])

    command = kubectl_patch_command(advice)
    assert command is not None
    argv = shlex.split(command)
    assert argv[:6] == ["kubectl", "-n", "shop", "patch", "deployment", "cart"]
    assert argv[6:8] == ["--type", "strategic"]
    assert json.loads(argv[9]) == patch
    rows = advice_rows(advice)
    assert {r.container for r in rows} == {"app", "sidecar"}
    assert any(r.resource == "memory_limit" and r.changed for r in rows)


def test_hostile_names_are_shell_quoted() -> None:
    deployment = _deployment()
    deployment["metadata"] = {"name": "x; rm -rf /", "namespace": "$(id)"}
    namespace, name, containers = containers_from_deployment(deployment)
    advice = DeploymentAdvice("", namespace, name, (advise_container(containers[0], _always_oom_usage()),))
    command = kubectl_patch_command(advice)
    assert command is not None
    argv = shlex.split(command)
    assert argv[2] == "$(id)" and argv[5] == "x; rm -rf /"


def test_malformed_deployment_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"metadata\.name"):
        containers_from_deployment({"spec": {}})
    with pytest.raises(ValueError, match="containers"):
        containers_from_deployment({"metadata": {"name": "a"}, "spec": {}})
    bad_quantity = _deployment()
    bad_quantity["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = "lots"  # type: ignore[index]
    with pytest.raises(QuantityError):
        containers_from_deployment(bad_quantity)


def test_healer_raise_memory_step_on_quantity_strings() -> None:
    from fleet_insight.resources import raise_memory_limit

    first = raise_memory_limit("256Mi")
    assert first.value is not None and format_memory(first.value) == "384Mi" and first.changed
    capped = raise_memory_limit("3Gi", factor=1.5, cap="4Gi")
    assert capped.value is not None and format_memory(capped.value) == "4Gi" and "capped" in capped.reason
    at_cap = raise_memory_limit("4Gi", cap="4Gi")
    assert not at_cap.changed and "escalate" in at_cap.reason
    with pytest.raises(ValueError, match="oom_raise_factor"):
        raise_memory_limit("256Mi", factor=0.5)
    with pytest.raises(QuantityError):
        raise_memory_limit("a lot")


def test_resources_import_without_the_report_dependencies() -> None:
    """The healer imports the advice functions; they must not pull in DuckDB, pandas or numpy."""
    import subprocess
    import sys

    code = (
        "import sys, fleet_insight.resources, fleet_insight.quantity; "
        "print(sorted(m for m in ('duckdb', 'pandas', 'numpy', 'google.cloud.bigquery') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert result.stdout.strip() == "[]"
