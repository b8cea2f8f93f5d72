"""Fault injection and how each fault clears, observed through the official client.

A ManualClock drives time, so readiness delays and restart counts are exact.
"""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from kube_standin.clock import ManualClock
from kube_standin.cluster import StandinCluster
from kube_standin.controller import SimulationSettings

READY_DELAY = 2.0
RESTART_EVERY = 10.0


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def settings() -> SimulationSettings:
    return SimulationSettings(ready_delay_seconds=READY_DELAY, crash_restart_interval_seconds=RESTART_EVERY)


@pytest.fixture(autouse=True)
def _fixture_pods_ready(cluster: StandinCluster, clock: ManualClock) -> None:
    clock.advance(READY_DELAY)


def pods(core: client.CoreV1Api, selector: str) -> list[client.V1Pod]:
    return [p for p in core.list_namespaced_pod("shop", label_selector=selector).items if p.status.phase == "Running"]


def usage_of(cluster: StandinCluster, pod: str) -> dict[str, Any]:
    return next(p for p in cluster.usage()["pods"] if p["pod"] == pod)


def test_pods_become_ready_after_the_configured_delay(
    cluster: StandinCluster, clock: ManualClock, core: client.CoreV1Api, kubectl: Any
) -> None:
    client.AppsV1Api(core.api_client).patch_namespaced_deployment_scale("worker", "shop", {"spec": {"replicas": 3}})
    new = [p for p in pods(core, "app=worker") if not p.status.container_statuses[0].ready]
    assert len(new) == 1
    assert not kubectl.rolled_out("shop", "worker")
    clock.advance(READY_DELAY)
    assert all(c.ready for p in pods(core, "app=worker") for c in p.status.container_statuses)
    assert kubectl.rolled_out("shop", "worker")


def test_cpu_hog_saturates_one_pod_and_leaves_with_it(
    cluster: StandinCluster, clock: ManualClock, core: client.CoreV1Api
) -> None:
    hog = cluster.inject_cpu_hog("shop", deployment="web")["pod"]
    for _ in range(5):
        clock.advance(1)
        for entry in cluster.usage()["pods"]:
            utilisation = entry["containers"][0]["cpu_limit_utilization"]
            if entry["pod"] == hog:
                assert 0.97 <= utilisation <= 1.0
            elif utilisation is not None:
                assert 0.0 < utilisation < 0.8
    assert usage_of(cluster, hog)["containers"][0]["faults"] == ["cpu-hog"]
    assert {p.metadata.name for p in pods(core, "app=web")} >= {hog}
    assert all(c.ready for p in pods(core, "app=web") for c in p.status.container_statuses)
    core.delete_namespaced_pod(hog, "shop")
    clock.advance(READY_DELAY)
    assert cluster.faults_summary()["cpu_hog"] == []
    assert all(
        max(c["cpu_limit_utilization"] for c in p["containers"]) < 0.8
        for p in cluster.usage()["pods"]
        if p["deployment"] == "web"
    )


def test_crash_loop_counts_restarts_and_clears_on_replacement(
    cluster: StandinCluster, clock: ManualClock, core: client.CoreV1Api, kubectl: Any
) -> None:
    victim = cluster.inject_crash_loop("shop", deployment="web")["pod"]
    status = core.read_namespaced_pod(victim, "shop").status
    container = status.container_statuses[0]
    assert container.state.waiting.reason == "CrashLoopBackOff" and not container.ready
    assert container.last_state.terminated.exit_code == 1 and container.last_state.terminated.reason == "Error"
    assert container.restart_count == 1
    assert {c.type: c.status for c in status.conditions}["Ready"] == "False"
    clock.advance(RESTART_EVERY * 2 + 1)
    assert core.read_namespaced_pod(victim, "shop").status.container_statuses[0].restart_count == 3
    log = core.read_namespaced_pod_log(victim, "shop", previous=True)
    assert "level=fatal" in log and "connection refused" in log
    backoffs = core.list_namespaced_event("shop", field_selector=f"involvedObject.name={victim},reason=BackOff").items
    assert backoffs and backoffs[0].type == "Warning" and backoffs[0].count >= 2
    assert usage_of(cluster, victim)["containers"][0]["restart_count"] == 3
    core.delete_namespaced_pod(victim, "shop")
    clock.advance(READY_DELAY)
    assert kubectl.rolled_out("shop", "web")
    assert all(c.restart_count == 0 and c.ready for p in pods(core, "app=web") for c in p.status.container_statuses)


def test_bad_rollout_crash_loops_new_pods_until_rolled_back(
    cluster: StandinCluster, clock: ManualClock, core: client.CoreV1Api, kubectl: Any
) -> None:
    apps = client.AppsV1Api(core.api_client)
    injected = cluster.inject_bad_rollout("shop", "web")
    assert injected["bad_image"] == "europe-docker.pkg.dev/shop/web:1.5.0-bad"
    clock.advance(READY_DELAY)
    web = apps.read_namespaced_deployment("web", "shop")
    assert web.metadata.annotations["deployment.kubernetes.io/revision"] == "3"
    by_image: dict[str, list[client.V1Pod]] = {}
    for pod in pods(core, "app=web"):
        by_image.setdefault(pod.spec.containers[0].image, []).append(pod)
    bad = by_image[injected["bad_image"]]
    assert bad and all(p.status.container_statuses[0].state.waiting.reason == "CrashLoopBackOff" for p in bad)
    assert "panic:" in core.read_namespaced_pod_log(bad[0].metadata.name, "shop")
    good = by_image[injected["previous_image"]]
    assert len([p for p in good if p.status.container_statuses[0].ready]) >= 2  # maxUnavailable keeps service up
    assert not kubectl.rolled_out("shop", "web")
    clock.advance(601)  # past progressDeadlineSeconds
    progressing = {c.type: c for c in apps.read_namespaced_deployment_status("web", "shop").status.conditions}
    assert (progressing["Progressing"].status, progressing["Progressing"].reason) == (
        "False",
        "ProgressDeadlineExceeded",
    )
    kubectl.rollout_undo("shop", "web")
    clock.advance(READY_DELAY)
    assert kubectl.rolled_out("shop", "web")
    images = {p.spec.containers[0].image for p in pods(core, "app=web")}
    assert images == {injected["previous_image"]}
    assert all(p.status.container_statuses[0].restart_count == 0 for p in pods(core, "app=web"))


def test_oom_kills_until_the_memory_limit_is_raised(
    cluster: StandinCluster, clock: ManualClock, core: client.CoreV1Api, kubectl: Any
) -> None:
    cluster.inject_oom("shop", "worker", container="worker", memory="768Mi")
    clock.advance(RESTART_EVERY + 1)
    for pod in pods(core, "app=worker"):
        worker = next(c for c in pod.status.container_statuses if c.name == "worker")
        sidecar = next(c for c in pod.status.container_statuses if c.name == "sidecar")
        assert worker.last_state.terminated.reason == "OOMKilled" and worker.last_state.terminated.exit_code == 137
        assert worker.restart_count == 2 and sidecar.restart_count == 0
    body = {
        "spec": {
            "template": {"spec": {"containers": [{"name": "worker", "resources": {"limits": {"memory": "640Mi"}}}]}}
        }
    }
    client.AppsV1Api(core.api_client).patch_namespaced_deployment("worker", "shop", body)  # still too small
    clock.advance(READY_DELAY)
    assert any(c.state.waiting for p in pods(core, "app=worker") for c in p.status.container_statuses)
    body["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] = "1Gi"
    client.AppsV1Api(core.api_client).patch_namespaced_deployment("worker", "shop", body)
    for _ in range(10):  # maxSurge 1, maxUnavailable 0: one pod per readiness delay
        clock.advance(READY_DELAY)
        if kubectl.rolled_out("shop", "worker"):
            break
    assert kubectl.rolled_out("shop", "worker")
    for pod in pods(core, "app=worker"):
        assert all(c.ready and c.restart_count == 0 for c in pod.status.container_statuses)
        assert pod.spec.containers[0].resources.limits["memory"] == "1Gi"
    worker_usage = [c for p in cluster.usage()["pods"] if p["deployment"] == "worker" for c in p["containers"]]
    assert len(worker_usage) == 4 and all(c["memory_limit_utilization"] < 0.9 for c in worker_usage)


def test_evicted_pods_are_replaced_by_their_replica_set(
    cluster: StandinCluster, clock: ManualClock, core: client.CoreV1Api
) -> None:
    evicted = cluster.inject_evicted_pods("shop", 1, deployment="worker")["pods"]
    pod = core.read_namespaced_pod(evicted[0], "shop")
    assert (pod.status.phase, pod.status.reason) == ("Failed", "Evicted")
    assert "low on resource: memory" in pod.status.message
    clock.advance(READY_DELAY)
    assert len(pods(core, "app=worker")) == 2
    standalone = cluster.inject_evicted_pods("shop", 2)["pods"]
    failed = core.list_namespaced_pod("shop", field_selector="status.phase=Failed").items
    assert set(standalone) | set(evicted) <= {p.metadata.name for p in failed}


def test_deleted_pods_terminate_for_a_while_when_configured(clock: ManualClock) -> None:
    settings = SimulationSettings(ready_delay_seconds=READY_DELAY, pod_termination_seconds=5)
    fixture = {
        "namespaces": [
            {
                "name": "shop",
                "deployments": [{"name": "web", "replicas": 2, "containers": [{"name": "web", "image": "web:1"}]}],
            }
        ]
    }
    with StandinCluster(fixture, settings=settings, clock=clock, seed=5) as cluster:
        configuration = client.Configuration(host=cluster.url)
        with client.ApiClient(configuration) as api:
            core = client.CoreV1Api(api)
            victim, survivor = sorted(p.metadata.name for p in core.list_namespaced_pod("shop").items)
            answer = core.delete_namespaced_pod(victim, "shop")
            assert answer.metadata.deletion_timestamp is not None and answer.metadata.deletion_grace_period_seconds == 5
            terminating = core.read_namespaced_pod(victim, "shop")
            assert {c.type: c.status for c in terminating.status.conditions}["Ready"] == "False"
            names = {p.metadata.name for p in core.list_namespaced_pod("shop").items}
            assert len(names) == 3 and {victim, survivor} < names  # the replacement did not wait
            clock.advance(5)
            assert {p.metadata.name for p in core.list_namespaced_pod("shop").items} == names - {victim}
            core.delete_namespaced_pod(survivor, "shop", grace_period_seconds=0)
            assert survivor not in {p.metadata.name for p in core.list_namespaced_pod("shop").items}


def test_pods_leave_a_node_that_stays_not_ready(
    cluster: StandinCluster, clock: ManualClock, core: client.CoreV1Api, kubectl: Any
) -> None:
    node = "gke-shop-default-pool-1a2b-x1"
    on_node = {p.metadata.name for p in pods(core, "app in (web,worker)") if p.spec.node_name == node}
    assert on_node
    cluster.set_node_ready(node, False)
    clock.advance(299)
    assert on_node <= {p.metadata.name for p in pods(core, "app in (web,worker)")}
    clock.advance(2)  # past the default 300 s not-ready toleration
    remaining = pods(core, "app in (web,worker)")
    assert not on_node & {p.metadata.name for p in remaining}
    assert all(p.spec.node_name != node for p in remaining)
    clock.advance(READY_DELAY)
    assert kubectl.rolled_out("shop", "web") and kubectl.rolled_out("shop", "worker")
    reasons = {e.reason for e in core.list_namespaced_event("shop").items}
    assert "TaintManagerEviction" in reasons


def test_crash_loop_back_off_can_double_like_the_kubelet(clock: ManualClock) -> None:
    settings = SimulationSettings(ready_delay_seconds=0, crash_restart_interval_seconds=10, crash_backoff="exponential")
    fixture = {
        "namespaces": [
            {
                "name": "a",
                "deployments": [{"name": "api", "replicas": 1, "containers": [{"name": "api", "image": "api:1"}]}],
            }
        ]
    }
    with StandinCluster(fixture, settings=settings, clock=clock) as cluster:
        pod = cluster.inject_crash_loop("a", deployment="api")["pod"]
        seen = []
        for _ in range(16):  # 16 x 50 s = 800 s: crashes at 0, 10, 30, 70, 150, 310, 610 s
            seen.append(cluster.get("pods", "a", pod)["status"]["containerStatuses"][0]["restartCount"])
            clock.advance(50)
        assert seen == [1, 3, 4, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 7, 7, 7]
        waiting = cluster.get("pods", "a", pod)["status"]["containerStatuses"][0]["state"]["waiting"]
        assert waiting["message"].startswith("back-off 300s")
    with pytest.raises(ValueError):
        SimulationSettings(crash_backoff="random")


def test_unpullable_image_rollout_waits_in_image_pull_back_off_until_rolled_back(
    cluster: StandinCluster, clock: ManualClock, core: client.CoreV1Api, kubectl: Any
) -> None:
    injected = cluster.inject_bad_rollout("shop", "web", mode="image-pull")
    assert injected["bad_image"].endswith("web:1.5.0-missing")
    stuck = [
        p
        for p in core.list_namespaced_pod("shop", label_selector="app=web").items
        if p.spec.containers[0].image == injected["bad_image"]
    ]
    assert stuck and all(p.status.phase == "Pending" for p in stuck)
    waiting = stuck[0].status.container_statuses[0]
    assert (waiting.state.waiting.reason, waiting.restart_count, waiting.ready) == ("ErrImagePull", 0, False)
    clock.advance(RESTART_EVERY)
    waiting = core.read_namespaced_pod(stuck[0].metadata.name, "shop").status.container_statuses[0]
    assert waiting.state.waiting.reason == "ImagePullBackOff"
    with pytest.raises(ApiException) as raised:
        core.read_namespaced_pod_log(stuck[0].metadata.name, "shop")
    assert raised.value.status == 400 and "failing to pull image" in raised.value.body
    usage = usage_of(cluster, stuck[0].metadata.name)["containers"][0]
    assert usage["faults"] == ["image-pull"] and usage["cpu_cores"] == 0
    events = core.list_namespaced_event("shop", field_selector=f"involvedObject.name={stuck[0].metadata.name}").items
    assert {"Failed", "BackOff"} <= {e.reason for e in events}
    assert len([p for p in pods(core, "app=web") if p.status.container_statuses[0].ready]) >= 2
    kubectl.rollout_undo("shop", "web")
    clock.advance(READY_DELAY)
    assert kubectl.rolled_out("shop", "web")
    assert {p.spec.containers[0].image for p in pods(core, "app=web")} == {injected["previous_image"]}
