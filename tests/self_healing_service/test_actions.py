"""Each remediation action against the stand-in cluster, through the one Kubernetes client module."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from kube_standin.cluster import StandinCluster
from kube_standin.controller import SimulationSettings
from self_healing_service import actions as act
from self_healing_service.errors import DryRunViolation
from self_healing_service.kube import ClusterConnector, ClusterRef, KubeGateway

FIXTURE: dict[str, Any] = {
    "nodes": [{"name": "node-a"}, {"name": "node-b"}, {"name": "node-c"}],
    "namespaces": [
        {
            "name": "shop",
            "deployments": [
                {
                    "name": "web",
                    "replicas": 2,
                    "labels": {"app": "web"},
                    "containers": [
                        {
                            "name": "web",
                            "image": "shop/web:1.0",
                            "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
                        }
                    ],
                },
            ],
            "pod_disruption_budgets": [{"name": "web-pdb", "selector": {"app": "web"}, "min_available": 2}],
        },
    ],
}


@pytest.fixture
def standin(tmp_path: Path) -> Any:
    with StandinCluster(FIXTURE, settings=SimulationSettings(ready_delay_seconds=0.0)) as cluster:
        cluster.kubeconfig_path = str(cluster.write_kubeconfig(tmp_path / "kubeconfig"))
        yield cluster


def gateway(cluster: Any) -> KubeGateway:
    return ClusterConnector(mode="kubeconfig", kubeconfig=cluster.kubeconfig_path).gateway(ClusterRef("", "", ""))


def web_pods(gw: KubeGateway) -> list[str]:
    return sorted(
        p["metadata"]["name"]
        for p in gw.list_pods("shop", label_selector="app=web")
        if not p["metadata"].get("deletionTimestamp")
    )


WEB = act.ActionTarget(namespace="shop", deployment="web", container="web")


def test_restart_rolls_new_pods(standin: Any) -> None:
    gw = gateway(standin)
    before = web_pods(gw)
    plan = act.plan_restart(gw, WEB, {}, time.time())
    plan.apply(gw)
    standin.wait_for(
        lambda: act.rollout_ready(gw.read_deployment("shop", "web"))[0] and set(web_pods(gw)).isdisjoint(before)
    )
    dep = gw.read_deployment("shop", "web")
    assert act.RESTARTED_AT in dep["spec"]["template"]["metadata"]["annotations"]


def test_restart_refuses_a_paused_deployment(standin: Any) -> None:
    gw = gateway(standin)
    gw.patch_deployment("shop", "web", {"spec": {"paused": True}})
    with pytest.raises(act.NotApplicable, match="paused"):
        act.plan_restart(gw, WEB, {}, time.time())


def test_rollback_restores_the_previous_pod_template(standin: Any) -> None:
    gw = gateway(standin)
    good = gw.read_deployment("shop", "web")["spec"]["template"]["spec"]["containers"][0]["image"]
    standin.inject_bad_rollout("shop", "web")
    standin.wait_for(
        lambda: gw.read_deployment("shop", "web")["spec"]["template"]["spec"]["containers"][0]["image"] != good
    )
    age = act.recent_rollout_age(gw, WEB, time.time())
    assert age is not None and age < 60
    plan = act.plan_rollback(gw, WEB, {"recent_rollout_window": "10m"}, time.time())
    plan.apply(gw)
    dep = gw.read_deployment("shop", "web")
    assert dep["spec"]["template"]["spec"]["containers"][0]["image"] == good
    patch = [r for r in standin.mutating_requests() if r.verb == "patch"][-1]
    assert patch.content_type.startswith("application/json-patch+json")


def test_rollback_not_applicable_without_history_or_recent_rollout(standin: Any) -> None:
    gw = gateway(standin)
    with pytest.raises(act.NotApplicable):
        act.plan_rollback(gw, WEB, {}, time.time())
    with pytest.raises(act.NotApplicable, match="shortly before"):
        act.plan_rollback(gw, WEB, {"recent_rollout_window": "10m"}, time.time())


def test_scale_out_within_bounds(standin: Any) -> None:
    gw = gateway(standin)
    plan = act.plan_scale_out(gw, WEB, {"max_replicas": 3, "step": 5}, time.time())
    assert plan.parameters["to"] == 3
    plan.apply(gw)
    assert gw.read_deployment_scale("shop", "web")["spec"]["replicas"] == 3
    with pytest.raises(act.NotApplicable, match="max 3"):
        act.plan_scale_out(gw, WEB, {"max_replicas": 3}, time.time())
    act.plan_scale_to(gw, WEB, 2).apply(gw)
    assert gw.read_deployment("shop", "web")["spec"]["replicas"] == 2


def test_raise_memory_limit_by_factor_up_to_cap(standin: Any) -> None:
    gw = gateway(standin)
    plan = act.plan_raise_memory(gw, WEB, {"factor": 1.5, "cap": "320Mi"}, time.time())
    assert plan.parameters == {"container": "web", "from": "256Mi", "to": "320Mi"}
    plan.apply(gw)
    dep = gw.read_deployment("shop", "web")
    assert dep["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"] == "320Mi"
    with pytest.raises(act.NotApplicable, match="cap"):
        act.plan_raise_memory(gw, WEB, {"factor": 1.5, "cap": "320Mi"}, time.time())


def test_delete_one_pod_is_replaced(standin: Any) -> None:
    gw = gateway(standin)
    victim = web_pods(gw)[0]
    act.plan_delete_pod(gw, act.ActionTarget("shop", "web", victim), {}, time.time()).apply(gw)
    standin.wait_for(lambda: victim not in web_pods(gw) and len(web_pods(gw)) == 2)


def test_drain_cordons_and_respects_the_disruption_budget(standin: Any) -> None:
    gw = gateway(standin)
    node = gw.read_pod("shop", web_pods(gw)[0])["spec"]["nodeName"]
    standin.set_node_ready(node, False)
    plan = act.plan_drain_node(gw, act.ActionTarget("", node=node), {"max_unavailable_share": 0.5}, time.time())
    with pytest.raises(Exception, match="PodDisruptionBudgets blocked"):
        plan.apply(gw)  # min_available 2 of 2 replicas: eviction is refused (429), as the real API does
    assert gw.read_node(node)["spec"]["unschedulable"] is True


def test_drain_refuses_past_the_unavailable_share(standin: Any) -> None:
    gw = gateway(standin)
    gw.patch_node("node-a", {"spec": {"unschedulable": True}})
    standin.set_node_ready("node-b", False)
    with pytest.raises(act.NotApplicable, match="already cordoned"):
        act.plan_drain_node(gw, act.ActionTarget("", node="node-b"), {"max_unavailable_share": 0.34}, time.time())


def test_cleanup_evicted_pods_and_failed_jobs(standin: Any) -> None:
    gw = gateway(standin)
    standin.inject_evicted_pods("shop", 2)
    standin.inject_failed_job("shop", "nightly", finished_seconds_ago=7200)
    plan = act.plan_cleanup_evicted(gw, act.ActionTarget("shop"), {"older_than": "0s"}, time.time())
    assert len(plan.parameters["pods"]) == 2
    plan.apply(gw)
    assert not [p for p in gw.list_pods("shop") if p["status"].get("reason") == "Evicted"]
    jobs = act.plan_cleanup_jobs(gw, act.ActionTarget("shop"), {"older_than": "1h"}, time.time())
    assert jobs.parameters["jobs"] == ["shop/nightly"]
    jobs.apply(gw)
    assert all(j["metadata"]["name"] != "nightly" for j in gw.list_jobs("shop"))


@pytest.mark.parametrize("action", sorted(act.PLANNERS))
def test_every_action_in_dry_run_makes_zero_mutating_calls(standin: Any, action: str) -> None:
    """Planning only reads; applying through a read-only gateway is refused before any request is sent."""
    gw = gateway(standin)
    standin.inject_evicted_pods("shop", 1)
    standin.inject_failed_job("shop", "old", finished_seconds_ago=7200)
    standin.inject_bad_rollout("shop", "web")
    node = gw.read_pod("shop", web_pods(gw)[0])["spec"]["nodeName"]
    standin.set_node_ready(node, False)
    standin.clear_requests()
    read_only = gw.read_only_view()
    target = act.ActionTarget("shop", "web", web_pods(gw)[0], "web", node)
    params = {"older_than": "0s", "max_unavailable_share": 1.0}
    plan = act.PLANNERS[action](
        read_only,
        target,
        {
            k: v
            for k, v in params.items()
            if (k in ("older_than",) and action.startswith("cleanup"))
            or (k == "max_unavailable_share" and action == "drain_node")
        },
        time.time(),
    )
    with pytest.raises(DryRunViolation):
        plan.apply(read_only)
    assert standin.mutating_requests() == []
