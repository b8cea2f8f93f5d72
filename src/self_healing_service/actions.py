"""Remediation actions. Each is an independent unit over :class:`KubeGateway`.

An action first *plans* (reads only: is it applicable, what exactly would change) and
then, unless dry-run, *applies* (the mutating calls). Plans carry what is needed to undo
the change. Nothing here imports `kubernetes`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from healing_contract.quantity import raise_memory_limit
from self_healing_service.errors import KubeNotFound, KubeRefused
from self_healing_service.kube import KubeGateway

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
REVISION = "deployment.kubernetes.io/revision"
# Annotations kubectl keeps from the Deployment on rollback (rollback.go "skip" keys).
_ROLLBACK_SKIP = (
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
)


class NotApplicable(Exception):
    """The action does not apply to this target now (the ladder moves on)."""


@dataclass
class Plan:
    action: str
    summary: str  # one human sentence: what will change
    apply: Callable[[KubeGateway], object]
    undo: dict[str, Any] = field(default_factory=dict)  # what save_change keeps for Undo
    parameters: dict[str, Any] = field(default_factory=dict)
    verify_rollout: bool = False


@dataclass(frozen=True)
class ActionTarget:
    namespace: str
    deployment: str = ""
    pod: str = ""
    container: str = ""
    node: str = ""


def rfc3339_now(now: float | None = None) -> str:
    moment = datetime.fromtimestamp(now if now is not None else time.time(), tz=UTC)
    return moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _deployment(gw: KubeGateway, target: ActionTarget) -> dict[str, Any]:
    if not target.deployment:
        raise NotApplicable("no Deployment owns this workload")
    return gw.read_deployment(target.namespace, target.deployment)


def _refuse_paused(dep: dict[str, Any], what: str) -> None:
    if (dep.get("spec") or {}).get("paused"):
        raise NotApplicable(f"can't {what} paused deployment (run rollout resume first)")


# ---------------------------------------------------------------- restart


def plan_restart(gw: KubeGateway, target: ActionTarget, params: dict[str, Any], now: float) -> Plan:
    """Exactly what `kubectl rollout restart` does: stamp the pod template."""
    dep = _deployment(gw, target)
    _refuse_paused(dep, "restart")
    stamp = rfc3339_now(now)
    body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
    return Plan(
        action="restart",
        summary=f"rollout restart of deployment {target.namespace}/{target.deployment}",
        apply=lambda g: g.patch_deployment(target.namespace, target.deployment, body),
        parameters={"restartedAt": stamp},
        verify_rollout=True,
    )


# ---------------------------------------------------------------- delete one pod


def plan_delete_pod(gw: KubeGateway, target: ActionTarget, params: dict[str, Any], now: float) -> Plan:
    if not target.pod:
        raise NotApplicable("the incident names no pod")
    try:
        pod = gw.read_pod(target.namespace, target.pod)
    except KubeNotFound as exc:
        raise NotApplicable(f"pod {target.pod} is already gone") from exc
    owners = (pod.get("metadata") or {}).get("ownerReferences") or []
    if not any(o.get("controller") for o in owners):
        raise NotApplicable(f"pod {target.pod} has no controller to replace it; deleting it would lose it")
    return Plan(
        action="delete_pod",
        summary=f"delete pod {target.namespace}/{target.pod} (its ReplicaSet replaces it)",
        apply=lambda g: g.delete_pod(target.namespace, target.pod),
        parameters={"pod": target.pod},
        verify_rollout=bool(target.deployment),
    )


# ---------------------------------------------------------------- scale out


def plan_scale_out(gw: KubeGateway, target: ActionTarget, params: dict[str, Any], now: float) -> Plan:
    dep = _deployment(gw, target)
    current = int((dep.get("spec") or {}).get("replicas") or 1)
    max_replicas = int(params.get("max_replicas", 10))
    step = max(1, int(params.get("step", 1)))
    wanted = min(max_replicas, current + step)
    if wanted <= current:
        raise NotApplicable(f"already at {current} replicas (max {max_replicas})")
    return Plan(
        action="scale_out",
        summary=f"scale deployment {target.namespace}/{target.deployment} from {current} to {wanted} replicas",
        apply=lambda g: g.scale_deployment(target.namespace, target.deployment, wanted),
        undo={"kind": "scale", "replicas": current},
        parameters={
            "from": current,
            "to": wanted,
            "max_replicas": max_replicas,
            "scale_back_on_close": bool(params.get("scale_back_on_close", False)),
        },
        verify_rollout=True,
    )


def plan_scale_to(gw: KubeGateway, target: ActionTarget, replicas: int) -> Plan:
    dep = _deployment(gw, target)
    current = int((dep.get("spec") or {}).get("replicas") or 1)
    if current == replicas:
        raise NotApplicable(f"already at {current} replicas")
    return Plan(
        action="scale_in" if replicas < current else "scale_out",
        summary=f"scale deployment {target.namespace}/{target.deployment} from {current} back to {replicas}",
        apply=lambda g: g.scale_deployment(target.namespace, target.deployment, replicas),
        parameters={"from": current, "to": replicas},
        verify_rollout=True,
    )


# ---------------------------------------------------------------- rollback (kubectl rollout undo)


def _owned_replica_sets(gw: KubeGateway, dep: dict[str, Any]) -> list[dict[str, Any]]:
    meta = dep.get("metadata") or {}
    labels = ((dep.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    uid = meta.get("uid")
    owned = []
    for rs in gw.list_replica_sets(meta.get("namespace", ""), selector):
        refs = (rs.get("metadata") or {}).get("ownerReferences") or []
        if any(ref.get("uid") == uid for ref in refs):
            owned.append(rs)
    return owned


def _revision(obj: dict[str, Any]) -> int:
    try:
        return int(((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def _template_without_hash(template: dict[str, Any]) -> dict[str, Any]:
    copy = dict(template)
    meta = dict(copy.get("metadata") or {})
    labels = dict(meta.get("labels") or {})
    labels.pop("pod-template-hash", None)
    meta["labels"] = labels
    copy["metadata"] = meta
    return copy


def recent_rollout_age(gw: KubeGateway, target: ActionTarget, now: float) -> float | None:
    """Seconds since the newest ReplicaSet of the Deployment was created (None if unknown)."""
    dep = _deployment(gw, target)
    sets = _owned_replica_sets(gw, dep)
    if len(sets) < 2:
        return None
    newest = max(sets, key=_revision)
    created = (newest.get("metadata") or {}).get("creationTimestamp")
    if not created:
        return None
    stamp = datetime.fromisoformat(str(created).replace("Z", "+00:00"))
    return max(0.0, now - stamp.timestamp())


def plan_rollback(gw: KubeGateway, target: ActionTarget, params: dict[str, Any], now: float) -> Plan:
    """Port of kubectl's DeploymentRollbacker with toRevision (0 = previous)."""
    dep = _deployment(gw, target)
    _refuse_paused(dep, "roll back")
    window = params.get("recent_rollout_window")
    if window is not None:
        from self_healing_service.policy import parse_duration

        age = recent_rollout_age(gw, target, now)
        if age is None or age > parse_duration(window):
            raise NotApplicable("no rollout landed shortly before the incident")
    to_revision = int(params.get("to_revision", 0))
    sets = _owned_replica_sets(gw, dep)
    if not sets:
        raise NotApplicable("no rollout history")
    by_revision = sorted(sets, key=_revision)
    if to_revision == 0:
        if len(by_revision) < 2:
            raise NotApplicable("no previous revision to roll back to")
        chosen = by_revision[-2]
    else:
        matches = [rs for rs in by_revision if _revision(rs) == to_revision]
        if not matches:
            raise NotApplicable(f"unable to find revision {to_revision}")
        chosen = matches[0]
    rs_template = _template_without_hash((chosen.get("spec") or {}).get("template") or {})
    current_template = _template_without_hash((dep.get("spec") or {}).get("template") or {})
    if rs_template == current_template:
        raise NotApplicable("the previous revision's template equals the current one: skipped rollback")
    dep_annotations = (dep.get("metadata") or {}).get("annotations") or {}
    annotations = {k: v for k, v in dep_annotations.items() if k in _ROLLBACK_SKIP}
    for key, value in ((chosen.get("metadata") or {}).get("annotations") or {}).items():
        if key not in _ROLLBACK_SKIP:
            annotations[key] = value
    patch = [
        {"op": "replace", "path": "/spec/template", "value": rs_template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ]
    revision = _revision(chosen)
    return Plan(
        action="rollback",
        summary=f"roll back deployment {target.namespace}/{target.deployment} to revision {revision}",
        apply=lambda g: g.patch_deployment(target.namespace, target.deployment, patch),
        undo={"kind": "template", "template": current_template, "revision": _revision(dep)},
        parameters={"to_revision": revision, "from_revision": _revision(dep)},
        verify_rollout=True,
    )


# ---------------------------------------------------------------- raise memory limit

_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T|)?$")
_FACTORS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def parse_bytes(quantity: str) -> int:
    match = _QUANTITY.match(str(quantity).strip())
    if not match:
        raise ValueError(f"not a memory quantity: {quantity!r}")
    return int(float(match.group(1)) * _FACTORS[match.group(2) or ""])


def format_mebibytes(value: int) -> str:
    return f"{-(-value // 2**20)}Mi"


def plan_raise_memory(gw: KubeGateway, target: ActionTarget, params: dict[str, Any], now: float) -> Plan:
    dep = _deployment(gw, target)
    factor = float(params.get("factor", 1.5))
    containers = (((dep.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or []
    chosen = next((c for c in containers if c.get("name") == target.container), None) if target.container else None
    if chosen is None:
        if len(containers) != 1:
            raise NotApplicable("the incident names no container and the pod has several")
        chosen = containers[0]
    limits = (chosen.get("resources") or {}).get("limits") or {}
    if "memory" not in limits:
        raise NotApplicable(f"container {chosen.get('name')} has no memory limit to raise")
    # The same rule as the fleet report's resource advice, so chat and report never disagree.
    advice = raise_memory_limit(str(limits["memory"]), oom_events=1, factor=factor, cap=str(params.get("cap", "4Gi")))
    if not advice.changed or advice.value is None:
        raise NotApplicable(f"memory limit {limits['memory']} not raised: {advice.reason}")
    wanted = int(advice.value)
    new_limit = format_mebibytes(wanted)
    requests = (chosen.get("resources") or {}).get("requests") or {}
    resources: dict[str, Any] = {"limits": {"memory": new_limit}}
    if "memory" in requests and parse_bytes(str(requests["memory"])) > wanted:
        resources["requests"] = {"memory": new_limit}
    body = {"spec": {"template": {"spec": {"containers": [{"name": chosen["name"], "resources": resources}]}}}}
    return Plan(
        action="raise_memory",
        summary=(
            f"raise memory limit of {target.namespace}/{target.deployment} container {chosen['name']} "
            f"from {limits['memory']} to {new_limit}"
        ),
        apply=lambda g: g.patch_deployment(target.namespace, target.deployment, body),
        undo={"kind": "memory", "container": chosen["name"], "limit": str(limits["memory"])},
        parameters={"container": chosen["name"], "from": str(limits["memory"]), "to": new_limit},
        verify_rollout=True,
    )


# ---------------------------------------------------------------- cordon and drain a node


def _node_ready(node: dict[str, Any]) -> bool:
    for condition in (node.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def plan_drain_node(gw: KubeGateway, target: ActionTarget, params: dict[str, Any], now: float) -> Plan:
    if not target.node:
        raise NotApplicable("the incident names no node")
    node = gw.read_node(target.node)
    if _node_ready(node):
        raise NotApplicable(f"node {target.node} is Ready again")
    nodes = gw.list_nodes()
    share = float(params.get("max_unavailable_share", 0.2))
    unavailable = [
        n
        for n in nodes
        if (n.get("spec") or {}).get("unschedulable") and (n.get("metadata") or {}).get("name") != target.node
    ]
    allowed = max(1, int(len(nodes) * share))
    if len(unavailable) + 1 > allowed:
        raise NotApplicable(
            f"{len(unavailable)} of {len(nodes)} nodes are already cordoned; draining another would exceed "
            f"the {share:.0%} limit"
        )
    pods = [
        p
        for p in gw.list_pods(field_selector=f"spec.nodeName={target.node}")
        if not any(o.get("kind") == "DaemonSet" for o in (p.get("metadata") or {}).get("ownerReferences") or [])
    ]

    def apply(g: KubeGateway) -> None:
        g.patch_node(target.node, {"spec": {"unschedulable": True}})
        blocked = []
        for pod in pods:
            meta = pod.get("metadata") or {}
            try:
                g.evict_pod(meta.get("namespace", ""), meta.get("name", ""))
            except KubeRefused:
                blocked.append(f"{meta.get('namespace')}/{meta.get('name')}")
            except KubeNotFound:
                continue
        if blocked:
            raise KubeRefused(
                f"cordoned {target.node}; PodDisruptionBudgets blocked eviction of {', '.join(blocked)}", status=429
            )

    return Plan(
        action="drain_node",
        summary=f"cordon node {target.node} and evict its {len(pods)} pods (PodDisruptionBudgets respected)",
        apply=apply,
        undo={"kind": "uncordon", "node": target.node},
        parameters={"node": target.node, "pods": len(pods)},
    )


# ---------------------------------------------------------------- clean-ups


def _age_seconds(stamp: str | None, now: float) -> float:
    if not stamp:
        return 0.0
    return now - datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()


def _delete_each(delete: Callable[[str, str], None], items: list[tuple[str, str]]) -> None:
    for namespace, name in items:
        try:
            delete(namespace, name)
        except KubeNotFound:
            continue


def plan_cleanup_evicted(gw: KubeGateway, target: ActionTarget, params: dict[str, Any], now: float) -> Plan:
    from self_healing_service.policy import parse_duration

    older_than = parse_duration(params.get("older_than", "10m"))
    pods = [
        p
        for p in gw.list_pods(target.namespace, field_selector="status.phase=Failed")
        if (p.get("status") or {}).get("reason") == "Evicted"
        and _age_seconds(
            (p.get("status") or {}).get("startTime") or (p.get("metadata") or {}).get("creationTimestamp"), now
        )
        >= older_than
    ]
    if not pods:
        raise NotApplicable("no Evicted pods old enough to clean up")
    names = [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in pods]
    return Plan(
        action="cleanup_evicted",
        summary=f"delete {len(names)} Evicted pods in {target.namespace or 'all namespaces'}",
        apply=lambda g: _delete_each(g.delete_pod, names),
        parameters={"pods": [f"{ns}/{name}" for ns, name in names]},
    )


def plan_cleanup_jobs(gw: KubeGateway, target: ActionTarget, params: dict[str, Any], now: float) -> Plan:
    from self_healing_service.policy import parse_duration

    older_than = parse_duration(params.get("older_than", "1h"))
    failed = []
    for job in gw.list_jobs(target.namespace):
        status = job.get("status") or {}
        conditions = status.get("conditions") or []
        failed_at = next(
            (
                c.get("lastTransitionTime")
                for c in conditions
                if c.get("type") == "Failed" and c.get("status") == "True"
            ),
            None,
        )
        if failed_at and _age_seconds(failed_at, now) >= older_than:
            failed.append((job["metadata"]["namespace"], job["metadata"]["name"]))
    if not failed:
        raise NotApplicable("no failed Jobs old enough to clean up")
    return Plan(
        action="cleanup_jobs",
        summary=f"delete {len(failed)} failed Jobs in {target.namespace or 'all namespaces'}",
        apply=lambda g: _delete_each(g.delete_job, failed),
        parameters={"jobs": [f"{ns}/{name}" for ns, name in failed]},
    )


PLANNERS: dict[str, Callable[[KubeGateway, ActionTarget, dict[str, Any], float], Plan]] = {
    "restart": plan_restart,
    "delete_pod": plan_delete_pod,
    "scale_out": plan_scale_out,
    "rollback": plan_rollback,
    "raise_memory": plan_raise_memory,
    "drain_node": plan_drain_node,
    "cleanup_evicted": plan_cleanup_evicted,
    "cleanup_jobs": plan_cleanup_jobs,
}


def plan_undo(gw: KubeGateway, target: ActionTarget, change: dict[str, Any]) -> Plan:
    """Undo the healer's own last change to a target, from what save_change kept."""
    undo = change.get("undo") or {}
    kind = undo.get("kind")
    if kind == "scale":
        return plan_scale_to(gw, target, int(undo["replicas"]))
    if kind == "uncordon":
        node = str(undo["node"])
        return Plan(
            "uncordon",
            f"uncordon node {node}",
            lambda g: g.patch_node(node, {"spec": {"unschedulable": False}}),
            parameters={"node": node},
        )
    if kind == "memory":
        body = {
            "spec": {
                "template": {
                    "spec": {
                        "containers": [{"name": undo["container"], "resources": {"limits": {"memory": undo["limit"]}}}]
                    }
                }
            }
        }
        return Plan(
            "undo_raise_memory",
            f"restore memory limit {undo['limit']} on container {undo['container']}",
            lambda g: g.patch_deployment(target.namespace, target.deployment, body),
            parameters={"to": undo["limit"]},
            verify_rollout=True,
        )
    if change.get("action") in ("restart", "rollback", "delete_pod") or kind == "template":
        # Undo of a rollback (or of a restart) is a rollback to the previous revision, as kubectl does.
        return plan_rollback(gw, target, {}, time.time())
    raise NotApplicable(f"the last change ({change.get('action', 'unknown')}) cannot be undone")


def rollout_ready(dep: dict[str, Any]) -> tuple[bool, str]:
    """The same test as `kubectl rollout status` for a Deployment."""
    meta = dep.get("metadata") or {}
    spec = dep.get("spec") or {}
    status = dep.get("status") or {}
    if int(meta.get("generation") or 0) > int(status.get("observedGeneration") or 0):
        return False, "waiting for the rollout to be observed"
    for condition in status.get("conditions") or []:
        if condition.get("type") == "Progressing" and condition.get("reason") == "ProgressDeadlineExceeded":
            return False, "rollout exceeded its progress deadline"
    wanted = int(spec["replicas"]) if spec.get("replicas") is not None else 1
    updated = int(status.get("updatedReplicas") or 0)
    total = int(status.get("replicas") or 0)
    available = int(status.get("availableReplicas") or 0)
    if updated < wanted:
        return False, f"{updated} of {wanted} new replicas updated"
    if total > updated:
        return False, f"{total - updated} old replicas pending termination"
    if available < updated:
        return False, f"{available} of {updated} updated replicas available"
    return True, f"rollout complete: {available} of {wanted} replicas available"
