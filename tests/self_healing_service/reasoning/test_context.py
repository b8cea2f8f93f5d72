from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from self_healing_service.reasoning.context import (
    ContainerSpec,
    ContextError,
    EventRecord,
    IncidentContext,
    PodStatus,
    RolloutRevision,
)

ContextFactory = Callable[..., IncidentContext]


def test_secret_values_are_the_env_values_that_could_be_secrets(make_context: ContextFactory) -> None:
    ctx = make_context()
    env = {
        "DB_PASSWORD": "hunter2-S3cr3t!pw",  # yes
        "MODE": "production",  # plain word
        "PORT": "8080",  # short
        "LEVEL": "Debug",  # short
        "POD_HASH": "7d9f8c6b5",  # part of the pod names
        "NAMESPACE": "shop",  # an identity
        "IMAGE": "europe-docker.pkg.dev/acme/shop/checkout:1.5.0",  # the image itself
        "EMPTY": "",
        "MIXED": "AbcDefGh",  # mixed case
    }
    spec = replace(ctx.containers[0], env=env)
    assert replace(ctx, containers=(spec,)).secret_values() == ("hunter2-S3cr3t!pw", "AbcDefGh")


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda c: replace(c, incident_id=" "), "incident_id"),
        (lambda c: replace(c, namespace=None), "namespace"),
        (lambda c: replace(c, pod=3), "pod"),
        (lambda c: replace(c, observed_value="7"), "observed_value"),
        (lambda c: replace(c, anomaly_score=float("nan")), "anomaly_score"),
        (lambda c: replace(c, top_features={"cpu": "high"}), "top_features"),
        (lambda c: replace(c, pod_statuses=[PodStatus("p")]), "pod_statuses"),
        (lambda c: replace(c, last_log_lines={"p": "one string"}), "last_log_lines"),
        (lambda c: PodStatus("p", restart_count=-1), "restart_count"),
        (lambda c: PodStatus("p", ready="yes"), "ready"),
        (lambda c: RolloutRevision("12"), "revision"),
        (lambda c: RolloutRevision(1, images=["a"]), "images"),
        (lambda c: EventRecord(count=1.5), "count"),
        (lambda c: ContainerSpec("c", env={"A": 1}), "env"),
        (lambda c: ContainerSpec("c", resources={"limits": "1Gi"}), "resources"),
    ],
)
def test_malformed_context_names_the_field(
    make_context: ContextFactory, build: Callable[[IncidentContext], Any], message: str
) -> None:
    with pytest.raises(ContextError, match=message):
        build(make_context())


def test_names_the_enforcer_checks_against(make_context: ContextFactory) -> None:
    ctx = make_context()
    assert ctx.revisions == {11, 12}
    assert ctx.container_names == {"checkout"}
    assert ctx.nodes == {"gke-prod-pool-1-5f2a9c1e-k8rt", "gke-prod-pool-1-5f2a9c1e-m3zd"}
    assert "checkout-7d9f8c6b5-x2x4z" in ctx.pod_names
