from __future__ import annotations

from typing import Any

import pytest

from self_healing_service.reasoning.policy import PolicyError, ReasoningPolicy, policy_from_mapping


def test_off_by_default_and_valid_without_a_project() -> None:
    policy = ReasoningPolicy()
    assert policy.enabled is False
    assert "drain_node" not in policy.allowed_actions
    assert "kube-system" in policy.protected_namespaces
    assert policy.base_url == "https://europe-west1-aiplatform.googleapis.com"


def test_base_url_for_the_global_location_and_an_override() -> None:
    assert ReasoningPolicy(location="global").base_url == "https://aiplatform.googleapis.com"
    assert ReasoningPolicy(endpoint_base_url="http://127.0.0.1:9/").base_url == "http://127.0.0.1:9"


@pytest.mark.parametrize(
    ("fields", "names"),
    [
        ({"enabled": True}, "project"),
        ({"enabled": "yes"}, "enabled"),
        ({"allowed_actions": ("restart", "kubectl_exec")}, "kubectl_exec"),
        ({"enabled": True, "project": "p", "allowed_actions": ()}, "allowed_actions"),
        ({"max_calls_per_hour": 0}, "max_calls_per_hour"),
        ({"max_calls_per_incident": 1.5}, "max_calls_per_incident"),
        ({"timeout_seconds": 0}, "timeout_seconds"),
        ({"timeout_seconds": float("inf")}, "timeout_seconds"),
        ({"auto_run_confidence": 1.2}, "auto_run_confidence"),
        ({"min_confidence": 0.9, "auto_run_confidence": 0.8}, "min_confidence"),
        ({"max_summary_bytes": 100}, "max_summary_bytes"),
        ({"model": "publishers/google/models/x"}, "model"),
        ({"endpoint_base_url": "ftp://x"}, "endpoint_base_url"),
        ({"protected_namespaces": ("kube-system", "")}, "protected_namespaces"),
        ({"project": 7}, "project"),
    ],
)
def test_invalid_policies_say_which_field(fields: dict[str, Any], names: str) -> None:
    with pytest.raises(PolicyError, match=names):
        ReasoningPolicy(**fields)


def test_from_mapping_builds_and_rejects_unknown_keys() -> None:
    policy = policy_from_mapping(
        {
            "enabled": True,
            "project": "acme-prod",
            "allowed_actions": ["restart", "rollback"],
            "timeout_seconds": 10,
            "auto_run_confidence": 0.9,
        }
    )
    assert policy.allowed_actions == ("restart", "rollback")
    assert policy.timeout_seconds == 10.0
    durations = policy_from_mapping({"timeout_seconds": "15s", "cache_ttl_seconds": "2h", "circuit_open_seconds": "5m"})
    assert (durations.timeout_seconds, durations.cache_ttl_seconds, durations.circuit_open_seconds) == (15, 7200, 300)
    with pytest.raises(PolicyError, match=r"timeout_seconds.*duration"):
        policy_from_mapping({"timeout_seconds": "soon"})
    with pytest.raises(PolicyError, match="max_calls"):
        policy_from_mapping({"max_calls": 3})
    with pytest.raises(PolicyError, match="allowed_actions"):
        policy_from_mapping({"allowed_actions": "restart"})
    with pytest.raises(PolicyError, match="mapping"):
        policy_from_mapping(["enabled"])  # type: ignore[arg-type]
