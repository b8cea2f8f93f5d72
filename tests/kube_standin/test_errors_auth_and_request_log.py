"""Status errors, the bearer-token check and the request log."""

from __future__ import annotations

import json
import urllib.request

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kube_standin.cluster import StandinCluster


def status_of(exc: ApiException) -> dict[str, object]:
    body = json.loads(exc.body)
    assert body["kind"] == "Status" and body["apiVersion"] == "v1" and body["status"] == "Failure"
    assert body["code"] == exc.status
    return body


def test_not_found_is_a_404_status(apps: client.AppsV1Api, core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as raised:
        apps.read_namespaced_deployment("nope", "shop")
    body = status_of(raised.value)
    assert raised.value.status == 404 and body["reason"] == "NotFound"
    assert body["message"] == 'deployments.apps "nope" not found'
    assert body["details"] == {"name": "nope", "group": "apps", "kind": "deployments"}
    with pytest.raises(ApiException) as raised:
        core.read_namespaced_pod("nope", "shop")
    assert status_of(raised.value)["message"] == 'pods "nope" not found'
    with pytest.raises(ApiException) as raised:
        apps.create_namespaced_deployment("missing-namespace", {"metadata": {"name": "x"}})
    assert raised.value.status == 404


def test_conflict_invalid_and_unsupported_media_type(api_client: client.ApiClient, apps: client.AppsV1Api) -> None:
    current = apps.read_namespaced_deployment("web", "shop")
    stale = {"metadata": {"resourceVersion": str(int(current.metadata.resource_version) - 1)}, "spec": {"replicas": 4}}
    with pytest.raises(ApiException) as raised:
        apps.patch_namespaced_deployment("web", "shop", stale)
    assert raised.value.status == 409 and status_of(raised.value)["reason"] == "Conflict"
    with pytest.raises(ApiException) as raised:
        apps.patch_namespaced_deployment("web", "shop", {"spec": {"replicas": "three"}})
    body = status_of(raised.value)
    assert raised.value.status == 422 and body["reason"] == "Invalid"
    assert body["details"]["causes"][0]["field"] == "spec.replicas"
    with pytest.raises(ApiException) as raised:
        apps.patch_namespaced_deployment("web", "shop", [{"op": "test", "path": "/spec/replicas", "value": 9}])
    assert raised.value.status == 422
    with pytest.raises(ApiException) as raised:
        api_client.call_api(
            "/apis/apps/v1/namespaces/shop/deployments/web",
            "PATCH",
            header_params={"Content-Type": "application/apply-patch+yaml"},
            body={"spec": {}},
            auth_settings=["BearerToken"],
            _preload_content=False,
        )
    assert raised.value.status == 415


def test_wrong_or_missing_token_is_401(cluster: StandinCluster) -> None:
    configuration = client.Configuration(host=cluster.url)
    configuration.api_key = {"authorization": "Bearer wrong"}
    with client.ApiClient(configuration) as api, pytest.raises(ApiException) as raised:
        client.CoreV1Api(api).list_namespace()
    assert raised.value.status == 401 and status_of(raised.value)["reason"] == "Unauthorized"
    with client.ApiClient(client.Configuration(host=cluster.url)) as api, pytest.raises(ApiException) as raised:
        client.VersionApi(api).get_code()
    assert raised.value.status == 401


def test_request_log_records_exactly_the_mutating_calls(
    cluster: StandinCluster, apps: client.AppsV1Api, core: client.CoreV1Api
) -> None:
    cluster.clear_requests()
    apps.list_namespaced_deployment("shop")
    apps.read_namespaced_deployment("web", "shop")
    apps.read_namespaced_deployment_scale("web", "shop")
    core.list_namespaced_pod("shop", label_selector="app=web")
    assert cluster.mutating_requests() == []
    assert [r.verb for r in cluster.requests] == ["list", "get", "get", "list"]
    assert cluster.requests[3].query == {"labelSelector": "app=web"}
    apps.patch_namespaced_deployment("web", "shop", {"spec": {"template": {"metadata": {"annotations": {"a": "b"}}}}})
    apps.patch_namespaced_deployment_scale("worker", "shop", {"spec": {"replicas": 3}})
    with pytest.raises(ApiException):
        apps.delete_namespaced_deployment("ghost", "shop")
    mutating = cluster.mutating_requests()
    assert [(r.method, r.path, r.status) for r in mutating] == [
        ("PATCH", "/apis/apps/v1/namespaces/shop/deployments/web", 200),
        ("PATCH", "/apis/apps/v1/namespaces/shop/deployments/worker/scale", 200),
        ("DELETE", "/apis/apps/v1/namespaces/shop/deployments/ghost", 404),
    ]
    # a dict body from the official client is sent as a strategic merge patch
    assert {r.content_type for r in mutating[:2]} == {"application/strategic-merge-patch+json"}
    assert mutating[1].body == {"spec": {"replicas": 3}}
    assert all(r.timestamp > 0 for r in mutating)
    cluster.clear_requests()
    assert cluster.requests == []


def test_discovery_documents_deserialize(api_client: client.ApiClient) -> None:
    version = client.VersionApi(api_client).get_code()
    assert (version.major, version.minor) == ("1", "30")
    groups = client.ApisApi(api_client).get_api_versions()
    assert {g.name for g in groups.groups} >= {"apps", "policy", "batch"}
    core_versions = client.CoreApi(api_client).get_api_versions()
    assert core_versions.versions == ["v1"]
    resources = client.AppsV1Api(api_client).get_api_resources()
    names = {r.name for r in resources.resources}
    assert {"deployments", "deployments/scale", "replicasets"} <= names
    core_resources = client.CoreV1Api(api_client).get_api_resources()
    assert {"pods", "pods/eviction", "pods/log", "nodes", "events", "namespaces"} <= {
        r.name for r in core_resources.resources
    }


def test_table_answer_when_kubectl_asks_for_one(cluster: StandinCluster) -> None:
    request = urllib.request.Request(cluster.url + "/api/v1/namespaces/shop/pods?labelSelector=app%3Dworker")
    request.add_header("Authorization", f"Bearer {cluster.token}")
    request.add_header("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io,application/json")
    with urllib.request.urlopen(request, timeout=10) as answer:
        table = json.loads(answer.read())
    assert table["kind"] == "Table" and table["apiVersion"] == "meta.k8s.io/v1"
    names = [c["name"] for c in table["columnDefinitions"]]
    assert names[:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert [row["cells"][1:4] for row in table["rows"]] == [["2/2", "Running", "0"]] * 2
    assert all(row["object"]["kind"] == "PartialObjectMetadata" for row in table["rows"])
