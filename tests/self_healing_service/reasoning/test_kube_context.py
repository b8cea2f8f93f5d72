"""Building the context from objects shaped as the Kubernetes REST API returns them."""

from __future__ import annotations

from typing import Any

import pytest

from self_healing_service.reasoning.analyzer import summarise
from self_healing_service.reasoning.context import ContextError
from self_healing_service.reasoning.kube_context import build_incident_context

DEPLOYMENT_UID = "6f1c2a9e-0b7d-4c51-9a3e-2d8f7c6b5a41"


def _container(image: str) -> dict[str, Any]:
    return {
        "name": "checkout",
        "image": image,
        "resources": {"limits": {"memory": "2Gi"}, "requests": {"cpu": "500m", "memory": "1Gi"}},
        "env": [
            {"name": "DB_PASSWORD", "value": "hunter2-S3cr3t!pw"},
            {"name": "API_TOKEN", "valueFrom": {"secretKeyRef": {"name": "checkout", "key": "token"}}},
        ],
    }


DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "checkout", "namespace": "shop", "uid": DEPLOYMENT_UID, "generation": 12},
    "spec": {"replicas": 2, "template": {"spec": {"containers": [_container("acme/checkout:1.5.0")]}}},
}


def _replica_set(name: str, revision: str, image: str, created: str, owner_uid: str = DEPLOYMENT_UID) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": "shop",
            "creationTimestamp": created,
            "annotations": {
                "deployment.kubernetes.io/revision": revision,
                "kubernetes.io/change-cause": f"deploy {image}",
            },
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": "checkout",
                    "uid": owner_uid,
                    "controller": True,
                }
            ],
        },
        "spec": {"template": {"spec": {"containers": [_container(image)]}}},
    }


def _pod(
    name: str, rs: str, ready: bool, restarts: int, node: str, waiting: str = "", terminated: str = ""
) -> dict[str, Any]:
    status: dict[str, Any] = {
        "name": "checkout",
        "ready": ready,
        "restartCount": restarts,
        "state": {"waiting": {"reason": waiting}} if waiting else {"running": {"startedAt": "2026-11-23T14:55:00Z"}},
        "lastState": {"terminated": {"reason": terminated, "exitCode": 137}} if terminated else {},
    }
    return {
        "metadata": {
            "name": name,
            "namespace": "shop",
            "ownerReferences": [{"kind": "ReplicaSet", "name": rs, "controller": True}],
        },
        "spec": {"nodeName": node},
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [status],
        },
    }


def test_context_from_api_objects() -> None:
    replica_sets = [
        _replica_set("checkout-5c8d7f9b4", "11", "acme/checkout:1.4.0", "2026-11-20T09:12:00Z"),
        _replica_set("checkout-7d9f8c6b5", "12", "acme/checkout:1.5.0", "2026-11-23T14:51:30Z"),
        _replica_set("cart-6b5c4d3e2", "3", "acme/cart:2.0.0", "2026-11-22T10:00:00Z", owner_uid="other"),
    ]
    pods = [
        _pod("checkout-7d9f8c6b5-x2x4z", "checkout-7d9f8c6b5", False, 7, "node-a", "CrashLoopBackOff", "OOMKilled"),
        _pod("checkout-7d9f8c6b5-q7w2n", "checkout-7d9f8c6b5", True, 0, "node-b"),
        _pod("cart-6b5c4d3e2-aaaaa", "cart-6b5c4d3e2", True, 0, "node-c"),
    ]
    events = [
        {
            "type": "Warning",
            "reason": "BackOff",
            "message": "Back-off restarting failed container checkout",
            "count": 31,
            "lastTimestamp": "2026-11-23T15:01:10Z",
            "involvedObject": {"kind": "Pod", "name": "checkout-7d9f8c6b5-x2x4z"},
            "metadata": {"name": "e1"},
        },
        {
            "type": "Normal",
            "reason": "ScalingReplicaSet",
            "note": "Scaled up replica set checkout-7d9f8c6b5 to 2",
            "eventTime": "2026-11-23T14:51:30.000000Z",
            "series": {"count": 2, "lastObservedTime": "2026-11-23T14:52:00.000000Z"},
            "regarding": {"kind": "Deployment", "name": "checkout"},
            "metadata": {"name": "e2"},
        },
        {
            "type": "Warning",
            "reason": "Unhealthy",
            "message": "cart probe",
            "involvedObject": {"name": "cart-6b5c4d3e2-aaaaa"},
        },
    ]
    ctx = build_incident_context(
        incident_id="0.abc",
        kind="crash_loop",
        deployment=DEPLOYMENT,
        replica_sets=replica_sets,
        pods=pods,
        events=events,
        logs={"checkout-7d9f8c6b5-x2x4z": "\n".join(f"line {i}" for i in range(80)) + "\nERROR OutOfMemoryError\n"},
        pod="checkout-7d9f8c6b5-x2x4z",
        container="checkout",
    )

    assert (ctx.namespace, ctx.deployment) == ("shop", "checkout")
    assert [(r.revision, r.images) for r in ctx.rollout_history] == [
        (11, ("acme/checkout:1.4.0",)),
        (12, ("acme/checkout:1.5.0",)),
    ]
    assert ctx.rollout_history[1].change_cause == "deploy acme/checkout:1.5.0"
    crashing, healthy = ctx.pod_statuses
    assert (crashing.ready, crashing.restart_count, crashing.waiting_reason, crashing.last_termination_reason) == (
        False,
        7,
        "CrashLoopBackOff",
        "OOMKilled",
    )
    assert healthy.ready and healthy.node == "node-b"
    assert ctx.nodes == {"node-a", "node-b"}  # cart's node is not ours
    assert [(e.reason, e.count) for e in ctx.events] == [("BackOff", 31), ("ScalingReplicaSet", 2)]
    assert ctx.events[1].last_seen == "2026-11-23T14:52:00.000000Z"
    lines = ctx.last_log_lines["checkout-7d9f8c6b5-x2x4z"]
    assert len(lines) == 50 and lines[-1] == "ERROR OutOfMemoryError"
    (spec,) = ctx.containers
    assert spec.env == {"DB_PASSWORD": "hunter2-S3cr3t!pw", "API_TOKEN": ""}
    assert spec.resources["limits"] == {"memory": "2Gi"}
    assert "hunter2" not in summarise(ctx, 8192).to_json()


@pytest.mark.parametrize(
    ("deployment", "message"),
    [
        ({"metadata": {"name": "checkout"}}, "namespace"),
        ({"metadata": "checkout"}, "deployment.metadata"),
        ({**DEPLOYMENT, "spec": {"template": {"spec": {"containers": "nginx"}}}}, "expected a list"),
    ],
)
def test_malformed_objects_are_rejected(deployment: dict[str, Any], message: str) -> None:
    with pytest.raises(ContextError, match=message):
        build_incident_context(incident_id="i", kind="crash_loop", deployment=deployment)
