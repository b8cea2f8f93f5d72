"""Node usage in the usage document, and metrics.k8s.io/v1beta1 as kubectl top reads it."""

from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kube_standin.cluster import StandinCluster
from kube_standin.quantity import parse_quantity


def test_node_usage_adds_up_its_pods(cluster: StandinCluster) -> None:
    usage = cluster.usage()
    for node in usage["nodes"]:
        pods = [p for p in usage["pods"] if p["node"] == node["node"]]
        assert node["pods"] == len(pods)
        pod_cpu = sum(c["cpu_cores"] for p in pods for c in p["containers"])
        assert node["cpu_cores"] > pod_cpu and 0 < node["cpu_allocatable_utilization"] < 1
        assert node["memory_allocatable_bytes"] == 13208700 * 1024
    cluster.set_node_ready("gke-shop-batch-pool-3c4d-y1", False)
    down = next(n for n in cluster.usage()["nodes"] if n["node"] == "gke-shop-batch-pool-3c4d-y1")
    assert down["ready"] is False and down["cpu_cores"] == 0


def test_resource_metrics_api(cluster: StandinCluster, api_client: client.ApiClient) -> None:
    custom = client.CustomObjectsApi(api_client)
    pods = custom.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", "shop", "pods", label_selector="app=web")
    assert pods["kind"] == "PodMetricsList" and len(pods["items"]) == 3
    first = pods["items"][0]
    usage = first["containers"][0]["usage"]
    assert usage["cpu"].endswith("n") and usage["memory"].endswith("Ki")
    assert 0 < parse_quantity(usage["cpu"]) < 0.5  # below the 500m limit
    hog = cluster.inject_cpu_hog("shop", deployment="web")["pod"]
    hot = custom.get_namespaced_custom_object("metrics.k8s.io", "v1beta1", "shop", "pods", hog)
    assert hot["kind"] == "PodMetrics" and parse_quantity(hot["containers"][0]["usage"]["cpu"]) >= 0.485
    nodes = custom.list_cluster_custom_object("metrics.k8s.io", "v1beta1", "nodes")
    assert {n["metadata"]["name"] for n in nodes["items"]} == {n["node"] for n in cluster.usage()["nodes"]}
    with pytest.raises(ApiException) as raised:
        custom.get_namespaced_custom_object("metrics.k8s.io", "v1beta1", "shop", "pods", "ghost")
    assert raised.value.status == 404
    groups = {g.name for g in client.ApisApi(api_client).get_api_versions().groups}
    assert "metrics.k8s.io" in groups
