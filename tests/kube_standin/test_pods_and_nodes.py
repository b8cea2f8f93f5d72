"""Pods, nodes, events, PDBs and jobs through the official client."""

from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kube_standin.cluster import StandinCluster
from kube_standin.controller import SimulationSettings


def running(core: client.CoreV1Api, selector: str) -> list[client.V1Pod]:
    return [p for p in core.list_namespaced_pod("shop", label_selector=selector).items if p.status.phase == "Running"]


def test_pod_shape_and_selectors(core: client.CoreV1Api) -> None:
    pods = running(core, "app=web")
    assert len(pods) == 3
    pod = pods[0]
    assert pod.metadata.owner_references[0].kind == "ReplicaSet" and pod.metadata.owner_references[0].controller
    assert pod.status.container_statuses[0].ready and pod.status.container_statuses[0].restart_count == 0
    assert {c.type: c.status for c in pod.status.conditions}["Ready"] == "True"
    assert pod.status.pod_ip and pod.status.host_ip and pod.status.qos_class == "Burstable"
    on_node = core.list_namespaced_pod("shop", field_selector=f"spec.nodeName={pod.spec.node_name}").items
    assert pod.metadata.name in {p.metadata.name for p in on_node}
    assert all(p.spec.node_name == pod.spec.node_name for p in on_node)
    failed = core.list_pod_for_all_namespaces(field_selector="status.phase=Failed").items
    evicted = [p.metadata.name for p in failed if p.status.reason == "Evicted"]
    assert evicted == ["legacy-cron-5k2x9"]
    assert core.list_namespaced_pod("shop", label_selector="app in (web,worker),tier!=db").items
    with pytest.raises(ApiException) as raised:
        core.list_namespaced_pod("shop", field_selector="spec.unknownField=1")
    assert raised.value.status == 400


def test_deleting_a_pod_makes_its_replica_set_replace_it(cluster: StandinCluster, core: client.CoreV1Api) -> None:
    victim = running(core, "app=web")[0]
    deleted = core.delete_namespaced_pod(victim.metadata.name, "shop")
    assert deleted.metadata.name == victim.metadata.name
    cluster.wait_for(lambda: len([p for p in running(core, "app=web") if p.status.container_statuses[0].ready]) == 3)
    names = {p.metadata.name for p in running(core, "app=web")}
    assert victim.metadata.name not in names
    owner = victim.metadata.owner_references[0].name
    assert all(name.startswith(owner + "-") for name in names)
    with pytest.raises(ApiException) as raised:
        core.read_namespaced_pod(victim.metadata.name, "shop")
    assert raised.value.status == 404


def test_eviction_blocked_by_disruption_budget_is_429(cluster: StandinCluster, core: client.CoreV1Api) -> None:
    victim = running(core, "app=web")[0].metadata.name
    eviction = client.V1Eviction(metadata=client.V1ObjectMeta(name=victim, namespace="shop"))
    with pytest.raises(ApiException) as raised:
        core.create_namespaced_pod_eviction(victim, "shop", eviction)
    assert raised.value.status == 429
    assert "disruption budget" in raised.value.body
    assert core.read_namespaced_pod(victim, "shop").metadata.name == victim
    worker = running(core, "app=worker")[0].metadata.name
    core.create_namespaced_pod_eviction(worker, "shop", client.V1Eviction(metadata=client.V1ObjectMeta(name=worker)))
    with pytest.raises(ApiException):
        core.read_namespaced_pod(worker, "shop")
    pdb = client.PolicyV1Api(core.api_client).read_namespaced_pod_disruption_budget("web-pdb", "shop")
    assert (pdb.status.current_healthy, pdb.status.desired_healthy, pdb.status.disruptions_allowed) == (3, 3, 0)


def test_cordon_and_not_ready_node(cluster: StandinCluster, core: client.CoreV1Api) -> None:
    nodes = core.list_node().items
    assert len(nodes) == 3 and all(n.status.node_info.kubelet_version for n in nodes)
    name = "gke-shop-batch-pool-3c4d-y1"
    cordoned = core.patch_node(name, {"spec": {"unschedulable": True}})
    assert cordoned.spec.unschedulable is True
    assert {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"} in [
        {"key": t.key, "effect": t.effect} for t in core.read_node(name).spec.taints
    ]
    assert [n.metadata.name for n in core.list_node(field_selector="spec.unschedulable=true").items] == [name]
    cluster.set_node_ready("gke-shop-default-pool-1a2b-x1", False)
    ready = {c.type: c.status for c in core.read_node("gke-shop-default-pool-1a2b-x1").status.conditions}
    assert ready["Ready"] == "False"
    on_bad_node = core.list_namespaced_pod("shop", field_selector="spec.nodeName=gke-shop-default-pool-1a2b-x1").items
    assert on_bad_node and all({c.type: c.status for c in p.status.conditions}["Ready"] == "False" for p in on_bad_node)
    # only one schedulable Ready node is left: new pods land there
    before = {p.metadata.name for p in running(core, "app=worker")}
    client.AppsV1Api(core.api_client).patch_namespaced_deployment_scale("worker", "shop", {"spec": {"replicas": 4}})
    cluster.sync()
    new_nodes = {p.spec.node_name for p in running(core, "app=worker") if p.metadata.name not in before}
    assert new_nodes == {"gke-shop-default-pool-1a2b-x2"}
    cluster.set_node_ready("gke-shop-default-pool-1a2b-x1", True)
    cluster.sync()
    assert all(p.status.container_statuses[0].ready for p in running(core, "app=web"))


def test_namespaces_events_and_logs(cluster: StandinCluster, core: client.CoreV1Api) -> None:
    shop = core.read_namespace("shop")
    assert shop.metadata.labels["team"] == "storefront" and shop.status.phase == "Active"
    assert {"default", "kube-system", "shop"} <= {n.metadata.name for n in core.list_namespace().items}
    events = core.list_namespaced_event("shop").items
    assert {"ScalingReplicaSet", "SuccessfulCreate", "Scheduled", "BackoffLimitExceeded"} <= {e.reason for e in events}
    created = core.create_namespaced_event(
        "shop",
        client.CoreV1Event(
            metadata=client.V1ObjectMeta(name="web.healer.1"),
            involved_object=client.V1ObjectReference(kind="Deployment", name="web", namespace="shop"),
            reason="SelfHealing",
            message="restarted deployment web",
            type="Normal",
        ),
    )
    assert created.metadata.uid
    found = core.list_namespaced_event("shop", field_selector="involvedObject.name=web,reason=SelfHealing").items
    assert [e.message for e in found] == ["restarted deployment web"]
    pod = running(core, "app=web")[0].metadata.name
    log = core.read_namespaced_pod_log(pod, "shop", tail_lines=1)
    assert log.count("\n") == 1 and "level=" in log
    with pytest.raises(ApiException) as raised:
        core.read_namespaced_pod_log(running(core, "app=worker")[0].metadata.name, "shop")
    assert raised.value.status == 400 and "choose one of" in raised.value.body


def test_failed_jobs_and_delete_propagation(cluster: StandinCluster, core: client.CoreV1Api) -> None:
    batch = client.BatchV1Api(core.api_client)
    job = batch.read_namespaced_job("nightly-export", "shop")
    failed = {c.type: c for c in job.status.conditions}["Failed"]
    assert failed.status == "True" and failed.reason == "BackoffLimitExceeded"
    assert job.status.failed == 3 and job.status.completion_time is None
    job_pods = core.list_namespaced_pod("shop", label_selector="job-name=nightly-export").items
    assert len(job_pods) == 3 and {p.status.phase for p in job_pods} == {"Failed"}
    batch.delete_namespaced_job("nightly-export", "shop", propagation_policy="Background")
    assert core.list_namespaced_pod("shop", label_selector="job-name=nightly-export").items == []
    cluster.inject_failed_job("shop", "hourly-sync")
    batch.delete_namespaced_job("hourly-sync", "shop")  # batch/v1 default: orphan the pods
    orphans = core.list_namespaced_pod("shop", label_selector="job-name=hourly-sync").items
    assert len(orphans) == 1 and not orphans[0].metadata.owner_references


def test_delete_collection_of_failed_pods(cluster: StandinCluster, core: client.CoreV1Api) -> None:
    cluster.inject_evicted_pods("shop", 2, deployment="worker")
    failed_before = core.list_namespaced_pod("shop", field_selector="status.phase=Failed").items
    assert len(failed_before) == 6  # 1 fixture Evicted pod, 3 failed job pods, 2 just evicted
    cluster.clear_requests()
    core.delete_collection_namespaced_pod("shop", field_selector="status.phase=Failed")
    assert core.list_namespaced_pod("shop", field_selector="status.phase=Failed").items == []
    assert [r.verb for r in cluster.mutating_requests()] == ["deletecollection"]
    assert len(running(core, "app=worker")) == 2 and len(running(core, "app=web")) == 3


def test_scheduling_by_requests_leaves_pods_pending_when_nothing_fits() -> None:
    fixture = {
        "nodes": [{"name": "small", "allocatable": {"cpu": "1", "memory": "2Gi"}}],
        "namespaces": [
            {
                "name": "a",
                "deployments": [
                    {
                        "name": "api",
                        "replicas": 3,
                        "containers": [
                            {
                                "name": "api",
                                "image": "api:1",
                                "resources": {"requests": {"cpu": "400m", "memory": "256Mi"}},
                            }
                        ],
                    }
                ],
            }
        ],
    }
    settings = SimulationSettings(ready_delay_seconds=0, schedule_by_requests=True)
    with (
        StandinCluster(fixture, settings=settings) as cluster,
        client.ApiClient(client.Configuration(host=cluster.url)) as api,
    ):
        core = client.CoreV1Api(api)
        pending = core.list_namespaced_pod("a", field_selector="status.phase=Pending").items
        assert len(pending) == 1 and len(core.list_namespaced_pod("a").items) == 3
        scheduled = {c.type: c for c in pending[0].status.conditions}["PodScheduled"]
        assert (scheduled.status, scheduled.reason) == ("False", "Unschedulable")
        assert scheduled.message.startswith("0/1 nodes are available: 1 Insufficient cpu.")
        events = core.list_namespaced_event("a", field_selector="reason=FailedScheduling").items
        assert [e.involved_object.name for e in events] == [pending[0].metadata.name]
        client.AppsV1Api(api).patch_namespaced_deployment_scale("api", "a", {"spec": {"replicas": 2}})
        phases = sorted(p.status.phase for p in core.list_namespaced_pod("a").items)
        assert phases == ["Running", "Running"]  # the unscheduled pod went first
