"""Less travelled API paths: pagination, strategies, history limits, cascades and malformed requests."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kube_standin.cluster import StandinCluster


def raw(
    cluster: StandinCluster, method: str, path: str, body: bytes | None = None, content_type: str = "application/json"
) -> tuple[int, Any]:
    request = urllib.request.Request(cluster.url + path, data=body, method=method)
    request.add_header("Authorization", f"Bearer {cluster.token}")
    request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def deployment(name: str, replicas: int, image: str, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": image}]},
            },
            **spec,
        },
    }


def test_malformed_requests_get_status_errors(cluster: StandinCluster) -> None:
    cases = [
        ("GET", "/apis/apps/v1/namespaces/shop/widgets", None, 404),
        ("GET", "/apis/apps/v1/namespaces/shop/deployments/web/unknown", None, 404),
        ("POST", "/apis/apps/v1/namespaces/shop/deployments/web", b"{}", 405),
        ("PATCH", "/apis/apps/v1/namespaces/shop/deployments/web", b"{not json", 400),
        ("POST", "/apis/apps/v1/namespaces/shop/deployments", b"[]", 400),
        ("POST", "/apis/apps/v1/namespaces/shop/deployments", json.dumps({"kind": "Pod"}).encode(), 400),
        ("GET", "/api/v1/namespaces/shop/pods?labelSelector=app%3D%3D%3D", None, 400),
        ("GET", "/api/v1/namespaces/shop/pods?limit=ten", None, 400),
        ("DELETE", "/apis/apps/v1/namespaces/shop/deployments/web?propagationPolicy=Sometimes", None, 422),
    ]
    for method, path, body, code in cases:
        status, answer = raw(cluster, method, path, body)
        assert (status, answer["kind"], answer["code"]) == (code, "Status", code), (method, path, answer)


def test_list_pagination_with_limit_and_continue(core: client.CoreV1Api) -> None:
    first = core.list_namespaced_pod("shop", limit=4)
    assert len(first.items) == 4 and first.metadata._continue and first.metadata.remaining_item_count == 6
    second = core.list_namespaced_pod("shop", limit=4, _continue=first.metadata._continue)
    third = core.list_namespaced_pod("shop", limit=4, _continue=second.metadata._continue)
    assert third.metadata._continue is None
    names = [p.metadata.name for page in (first, second, third) for p in page.items]
    assert names == [p.metadata.name for p in core.list_namespaced_pod("shop").items] and len(names) == 10


def test_recreate_strategy_replaces_all_pods_at_once(
    cluster: StandinCluster, apps: client.AppsV1Api, kubectl: Any
) -> None:
    apps.create_namespaced_deployment("shop", deployment("db", 2, "db:1", strategy={"type": "Recreate"}))
    cluster.wait_for(lambda: kubectl.rolled_out("shop", "db"))
    old = kubectl.running_pod_names("shop", "app=db")
    apps.patch_namespaced_deployment(
        "db", "shop", {"spec": {"template": {"spec": {"containers": [{"name": "db", "image": "db:2"}]}}}}
    )
    cluster.wait_for(lambda: kubectl.rolled_out("shop", "db"))
    assert not old & kubectl.running_pod_names("shop", "app=db")
    scaling = [
        e.message
        for e in client.CoreV1Api(apps.api_client)
        .list_namespaced_event("shop", field_selector="involvedObject.name=db,reason=ScalingReplicaSet")
        .items
    ]
    down = next(i for i, m in enumerate(scaling) if "Scaled down" in m and "to 0" in m)
    up = max(i for i, m in enumerate(scaling) if "Scaled up" in m)
    assert down < up  # old pods went away before the new ones came


def test_revision_history_limit_prunes_old_replica_sets(
    cluster: StandinCluster, apps: client.AppsV1Api, kubectl: Any
) -> None:
    apps.create_namespaced_deployment("shop", deployment("api", 1, "api:0", revisionHistoryLimit=2))
    for version in range(1, 5):
        apps.patch_namespaced_deployment(
            "api",
            "shop",
            {"spec": {"template": {"spec": {"containers": [{"name": "api", "image": f"api:{version}"}]}}}},
        )
        cluster.wait_for(lambda: kubectl.rolled_out("shop", "api"))
    sets = kubectl.owned_replica_sets(apps.read_namespaced_deployment("api", "shop"))
    revisions = sorted(int(rs.metadata.annotations["deployment.kubernetes.io/revision"]) for rs in sets)
    assert revisions == [3, 4, 5]  # the current one plus two old ones


def test_deleting_a_namespace_removes_its_objects(cluster: StandinCluster, core: client.CoreV1Api) -> None:
    core.delete_namespace("shop")
    with pytest.raises(ApiException) as raised:
        core.read_namespace("shop")
    assert raised.value.status == 404
    assert core.list_pod_for_all_namespaces(label_selector="app=web").items == []
    assert client.AppsV1Api(core.api_client).list_deployment_for_all_namespaces().items == []


def test_standalone_pod_is_scheduled_and_becomes_ready(cluster: StandinCluster, core: client.CoreV1Api) -> None:
    pod = client.V1Pod(
        metadata=client.V1ObjectMeta(name="debug"),
        spec=client.V1PodSpec(containers=[client.V1Container(name="sh", image="busybox:1.36")]),
    )
    created = core.create_namespaced_pod("shop", pod)
    assert created.status.phase in ("Pending", "Running")
    cluster.wait_for(lambda: core.read_namespaced_pod("debug", "shop").status.container_statuses is not None)
    running = core.read_namespaced_pod("debug", "shop")
    assert running.spec.node_name and running.status.container_statuses[0].ready
    with pytest.raises(ApiException) as raised:
        core.patch_namespaced_pod("debug", "shop", {"spec": {"restartPolicy": "Never"}})
    assert raised.value.status == 422
    patched = core.patch_namespaced_pod("debug", "shop", {"metadata": {"labels": {"debug": "true"}}})
    assert patched.metadata.labels == {"debug": "true"}
