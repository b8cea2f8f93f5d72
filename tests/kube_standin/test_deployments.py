"""Deployments through the official client: read, patch, restart, rollback, scale, create, delete."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kube_standin.cluster import StandinCluster

REVISION = "deployment.kubernetes.io/revision"
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


def test_list_and_get_deployments(apps: client.AppsV1Api) -> None:
    listed = apps.list_namespaced_deployment("shop")
    assert [d.metadata.name for d in listed.items] == ["reports", "web", "worker"]
    assert int(listed.metadata.resource_version) > 0
    everywhere = apps.list_deployment_for_all_namespaces(label_selector="tier=frontend")
    assert [d.metadata.name for d in everywhere.items] == ["web"]
    web = apps.read_namespaced_deployment("web", "shop")
    assert web.kind == "Deployment" and web.api_version == "apps/v1"
    assert web.metadata.uid and web.metadata.creation_timestamp.tzinfo is not None
    assert web.metadata.annotations[REVISION] == "2"  # the fixture rolled 1.4.0 -> 1.5.0
    assert web.spec.template.spec.containers[0].resources.limits == {"cpu": "500m", "memory": "256Mi"}
    assert web.status.ready_replicas == 3 and web.status.observed_generation == web.metadata.generation


def test_merge_and_strategic_patch_keep_other_containers_and_env(apps: client.AppsV1Api) -> None:
    body = {
        "spec": {"template": {"spec": {"containers": [{"name": "worker", "env": [{"name": "MODE", "value": "fast"}]}]}}}
    }
    patched = apps.patch_namespaced_deployment("worker", "shop", body)
    containers = {c.name: c for c in patched.spec.template.spec.containers}
    assert set(containers) == {"worker", "sidecar"}  # merged by name, not replaced
    assert containers["worker"].image.endswith("worker:2.1.0")
    assert [(e.name, e.value) for e in containers["worker"].env] == [("MODE", "fast")]
    assert patched.metadata.generation == 2


def test_rollout_restart_rolls_pods_to_a_new_replica_set(
    cluster: StandinCluster, apps: client.AppsV1Api, core: client.CoreV1Api, kubectl: Any
) -> None:
    before_pods = kubectl.running_pod_names("shop", "app=web")
    before = apps.read_namespaced_deployment("web", "shop")
    stamp = datetime.now(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
    apps.patch_namespaced_deployment("web", "shop", body)
    cluster.wait_for(lambda: kubectl.rolled_out("shop", "web"))
    after = apps.read_namespaced_deployment("web", "shop")
    assert int(after.metadata.annotations[REVISION]) == int(before.metadata.annotations[REVISION]) + 1
    after_pods = kubectl.running_pod_names("shop", "app=web")
    assert len(after_pods) == 3 and not after_pods & before_pods
    sets = kubectl.owned_replica_sets(after)
    newest = max(sets, key=lambda rs: int(rs.metadata.annotations[REVISION]))
    assert newest.metadata.name == f"web-{newest.metadata.labels['pod-template-hash']}"
    assert newest.spec.template.metadata.annotations[RESTARTED_AT] == stamp
    assert all(p.startswith(newest.metadata.name + "-") and len(p) == len(newest.metadata.name) + 6 for p in after_pods)
    assert sorted(rs.spec.replicas for rs in sets) == [0, 0, 3]  # old revisions kept at zero for rollback


def test_rollback_with_json_patch_restores_previous_template(
    cluster: StandinCluster, api_client: client.ApiClient, apps: client.AppsV1Api, core: client.CoreV1Api, kubectl: Any
) -> None:
    kubectl.rollout_undo("shop", "web")
    cluster.wait_for(lambda: kubectl.rolled_out("shop", "web"))
    web = apps.read_namespaced_deployment("web", "shop")
    assert web.spec.template.spec.containers[0].image.endswith("web:1.4.0")
    assert web.metadata.annotations[REVISION] == "3"
    assert web.metadata.annotations["self-healing/enabled"] == "true"
    sets = {rs.metadata.annotations[REVISION]: rs for rs in kubectl.owned_replica_sets(web)}
    assert set(sets) == {"2", "3"}  # revision 1's ReplicaSet became revision 3
    assert sets["3"].metadata.annotations["deployment.kubernetes.io/revision-history"] == "1"
    assert sets["3"].spec.replicas == 3 and sets["2"].spec.replicas == 0
    images = {p.spec.containers[0].image for p in core.list_namespaced_pod("shop", label_selector="app=web").items}
    assert images == {"europe-docker.pkg.dev/shop/web:1.4.0"}
    patches = [r for r in cluster.mutating_requests() if r.verb == "patch"]
    assert [r.content_type for r in patches] == ["application/json-patch+json"]
    assert [op["path"] for op in patches[0].body] == ["/spec/template", "/metadata/annotations"]


def test_scale_subresource(
    cluster: StandinCluster, apps: client.AppsV1Api, core: client.CoreV1Api, kubectl: Any
) -> None:
    scale = apps.read_namespaced_deployment_scale("worker", "shop")
    assert isinstance(scale, client.V1Scale) and scale.spec.replicas == 2
    assert scale.status.selector == "app=worker"
    scaled = apps.patch_namespaced_deployment_scale("worker", "shop", {"spec": {"replicas": 5}})
    assert scaled.spec.replicas == 5
    cluster.wait_for(lambda: len(kubectl.running_pod_names("shop", "app=worker")) == 5)
    apps.patch_namespaced_deployment_scale("worker", "shop", {"spec": {"replicas": 1}})
    cluster.wait_for(lambda: len(kubectl.running_pod_names("shop", "app=worker")) == 1)
    assert apps.read_namespaced_deployment("worker", "shop").spec.replicas == 1
    with pytest.raises(ApiException) as raised:
        apps.patch_namespaced_deployment_scale("worker", "shop", {"spec": {"replicas": -1}})
    assert raised.value.status == 422


def test_paused_deployment_does_not_roll(
    cluster: StandinCluster, apps: client.AppsV1Api, core: client.CoreV1Api, kubectl: Any
) -> None:
    before = kubectl.running_pod_names("shop", "app=reports")
    body = {"spec": {"template": {"spec": {"containers": [{"name": "reports", "image": "shop/reports:1.0.0"}]}}}}
    apps.patch_namespaced_deployment("reports", "shop", body)
    cluster.sync()
    assert kubectl.running_pod_names("shop", "app=reports") == before
    status = apps.read_namespaced_deployment_status("reports", "shop").status
    progressing = next(c for c in status.conditions if c.type == "Progressing")
    assert (progressing.status, progressing.reason) == ("Unknown", "DeploymentPaused")
    apps.patch_namespaced_deployment("reports", "shop", {"spec": {"paused": False}})
    cluster.wait_for(lambda: kubectl.rolled_out("shop", "reports"))
    pods = core.list_namespaced_pod("shop", label_selector="app=reports").items
    assert [p.spec.containers[0].image for p in pods] == ["shop/reports:1.0.0"]


def test_create_replace_and_delete(
    cluster: StandinCluster, apps: client.AppsV1Api, core: client.CoreV1Api, kubectl: Any
) -> None:
    body = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="api", labels={"app": "api"}),
        spec=client.V1DeploymentSpec(
            replicas=2,
            selector=client.V1LabelSelector(match_labels={"app": "api"}),
            template=client.V1PodTemplateSpec(
                metadata=client.V1ObjectMeta(labels={"app": "api"}),
                spec=client.V1PodSpec(containers=[client.V1Container(name="api", image="shop/api:3.0")]),
            ),
        ),
    )
    created = apps.create_namespaced_deployment("shop", body)
    assert created.metadata.generation == 1 and created.spec.strategy.type == "RollingUpdate"
    with pytest.raises(ApiException) as exists:
        apps.create_namespaced_deployment("shop", body)
    assert exists.value.status == 409
    cluster.wait_for(lambda: kubectl.rolled_out("shop", "api"))
    stale = apps.read_namespaced_deployment("api", "shop")
    fresh = apps.read_namespaced_deployment("api", "shop")
    fresh.spec.replicas = 3
    apps.replace_namespaced_deployment("api", "shop", fresh)
    stale.spec.replicas = 1
    with pytest.raises(ApiException) as conflict:
        apps.replace_namespaced_deployment("api", "shop", stale)
    assert conflict.value.status == 409
    status = apps.delete_namespaced_deployment("api", "shop", propagation_policy="Background")
    assert status.status == "Success"
    cluster.sync()
    assert kubectl.running_pod_names("shop", "app=api") == set()
    assert not [rs for rs in apps.list_namespaced_replica_set("shop").items if rs.metadata.name.startswith("api-")]


def test_dry_run_patch_changes_nothing(cluster: StandinCluster, apps: client.AppsV1Api) -> None:
    before = apps.read_namespaced_deployment("web", "shop")
    answer = apps.patch_namespaced_deployment("web", "shop", {"spec": {"replicas": 7}}, dry_run="All")
    assert answer.spec.replicas == 7
    after = apps.read_namespaced_deployment("web", "shop")
    assert after.spec.replicas == 3 and after.metadata.resource_version == before.metadata.resource_version


def test_invalid_patch_is_422_and_selector_is_immutable(apps: client.AppsV1Api) -> None:
    for body in (
        {"spec": {"replicas": -2}},
        {"spec": {"selector": {"matchLabels": {"app": "other"}}}},
        {"spec": {"template": {"spec": {"containers": [{"name": "web", "image": ""}]}}}},
    ):
        with pytest.raises(ApiException) as raised:
            apps.patch_namespaced_deployment("web", "shop", body)
        assert raised.value.status == 422, body
