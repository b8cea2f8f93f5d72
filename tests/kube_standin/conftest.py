"""Shared fixtures: a running stand-in cluster and real `kubernetes` clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from kube_standin.clock import Clock
from kube_standin.cluster import StandinCluster
from kube_standin.controller import SimulationSettings

SHOP_FIXTURE = Path(__file__).parent / "data" / "shop.yaml"
TOKEN = "test-token"
REVISION = "deployment.kubernetes.io/revision"


@pytest.fixture
def clock() -> Clock | None:
    """The wall clock by default; modules override this with a ManualClock for exact timing."""
    return None


@pytest.fixture
def settings() -> SimulationSettings:
    return SimulationSettings(ready_delay_seconds=0)


@pytest.fixture
def cluster(clock: Clock | None, settings: SimulationSettings) -> Iterator[StandinCluster]:
    """The shop fixture (tests/kube_standin/data/shop.yaml), served with a required bearer token."""
    with StandinCluster(SHOP_FIXTURE, token=TOKEN, seed=7, settings=settings, clock=clock) as running:
        yield running


@pytest.fixture
def api_client(cluster: StandinCluster) -> Iterator[client.ApiClient]:
    configuration = client.Configuration(host=cluster.url)
    configuration.api_key = {"authorization": f"Bearer {TOKEN}"}
    with client.ApiClient(configuration) as api:
        yield api


@pytest.fixture
def apps(api_client: client.ApiClient) -> client.AppsV1Api:
    return client.AppsV1Api(api_client)


@pytest.fixture
def core(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


class Kubectl:
    """What kubectl does for `rollout undo` and `rollout status`, written against the Python client."""

    def __init__(self, api_client: client.ApiClient) -> None:
        self.api_client = api_client
        self.apps = client.AppsV1Api(api_client)
        self.core = client.CoreV1Api(api_client)

    def owned_replica_sets(self, deployment: client.V1Deployment) -> list[client.V1ReplicaSet]:
        selector = ",".join(f"{k}={v}" for k, v in deployment.spec.selector.match_labels.items())
        sets = self.apps.list_namespaced_replica_set(deployment.metadata.namespace, label_selector=selector).items
        return [rs for rs in sets if any(o.uid == deployment.metadata.uid for o in rs.metadata.owner_references or [])]

    def running_pod_names(self, namespace: str, selector: str) -> set[str]:
        pods = self.core.list_namespaced_pod(namespace, label_selector=selector).items
        return {p.metadata.name for p in pods if p.status.phase == "Running"}

    def rollout_undo(self, namespace: str, name: str) -> None:
        """kubectl polymorphichelpers/rollback.go: JSON Patch back to the previous revision's template."""
        deployment = self.apps.read_namespaced_deployment(name, namespace)
        if deployment.spec.paused:
            raise RuntimeError("cannot roll back a paused deployment")
        history = sorted(self.owned_replica_sets(deployment), key=lambda rs: int(rs.metadata.annotations[REVISION]))
        previous = history[-2]
        template: dict[str, Any] = self.api_client.sanitize_for_serialization(previous.spec.template)
        template["metadata"]["labels"].pop("pod-template-hash", None)
        skip = {
            "kubectl.kubernetes.io/last-applied-configuration",
            REVISION,
            "deployment.kubernetes.io/revision-history",
            "deployment.kubernetes.io/desired-replicas",
            "deployment.kubernetes.io/max-replicas",
            "deprecated.deployment.rollback.to",
        }
        annotations = {k: v for k, v in (deployment.metadata.annotations or {}).items() if k in skip}
        annotations.update({k: v for k, v in (previous.metadata.annotations or {}).items() if k not in skip})
        patch = [
            {"op": "replace", "path": "/spec/template", "value": template},
            {"op": "replace", "path": "/metadata/annotations", "value": annotations},
        ]
        self.apps.patch_namespaced_deployment(name, namespace, patch)

    def rolled_out(self, namespace: str, name: str) -> bool:
        """kubectl rollout status's completeness check."""
        deployment = self.apps.read_namespaced_deployment_status(name, namespace)
        status = deployment.status
        return bool(
            (status.observed_generation or 0) >= deployment.metadata.generation
            and (status.updated_replicas or 0) == deployment.spec.replicas
            and (status.replicas or 0) == (status.updated_replicas or 0)
            and (status.available_replicas or 0) == (status.updated_replicas or 0)
        )


@pytest.fixture
def kubectl(api_client: client.ApiClient) -> Kubectl:
    return Kubectl(api_client)
