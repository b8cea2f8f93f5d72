"""Shared fixtures: a running stand-in cluster and real `kubernetes` clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from kube_standin.cluster import StandinCluster
from kube_standin.controller import SimulationSettings

SHOP_FIXTURE = Path(__file__).parent / "data" / "shop.yaml"
TOKEN = "test-token"


@pytest.fixture
def cluster() -> Iterator[StandinCluster]:
    with StandinCluster(
        SHOP_FIXTURE, token=TOKEN, seed=7, settings=SimulationSettings(ready_delay_seconds=0)
    ) as running:
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
