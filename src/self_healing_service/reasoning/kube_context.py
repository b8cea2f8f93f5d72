"""Build an :class:`IncidentContext` from Kubernetes REST objects (plain JSON dicts, camelCase).

The healer's kube gateway already returns API objects as plain dicts; this turns a Deployment,
its ReplicaSets, pods, events and pod logs into the context the analyzer reads. Pure: no
``kubernetes`` import, no I/O. Objects that are not the shape the API returns raise
:class:`ContextError` naming what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from self_healing_service.reasoning.context import (
    ContainerSpec,
    ContextError,
    EventRecord,
    IncidentContext,
    PodStatus,
    RolloutRevision,
)

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause"
MAX_LOG_LINES = 50


def _map(value: object, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ContextError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _list(value: object, where: str) -> Sequence[Any]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise ContextError(f"{where}: expected a list, got {type(value).__name__}")
    return value


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _containers(template_spec: Mapping[str, Any], where: str) -> list[Mapping[str, Any]]:
    return [_map(c, f"{where}.containers[{i}]") for i, c in enumerate(_list(template_spec.get("containers"), where))]


def _container_specs(deployment: Mapping[str, Any]) -> tuple[ContainerSpec, ...]:
    where = "deployment.spec.template.spec"
    spec = _map(_map(_map(deployment.get("spec"), "deployment.spec").get("template"), where).get("spec"), where)
    out = []
    for c in _containers(spec, where):
        env = {}
        for item in _list(c.get("env"), f"{where}.containers.env"):
            entry = _map(item, f"{where}.containers.env[]")
            if entry.get("name"):
                # valueFrom (Secret / ConfigMap references) carries no value here; keep the name only.
                env[str(entry["name"])] = _str(entry.get("value"))
        resources = {
            section: {str(k): str(v) for k, v in _map(values, f"{where}.resources.{section}").items()}
            for section, values in _map(c.get("resources"), f"{where}.resources").items()
            if section in ("limits", "requests")
        }
        out.append(ContainerSpec(_str(c.get("name")), _str(c.get("image")), resources, env))
    return tuple(out)


def _owned_by(obj: Mapping[str, Any], uid: str, name: str) -> bool:
    owners = _list(_map(obj.get("metadata"), "metadata").get("ownerReferences"), "metadata.ownerReferences")
    for owner in owners:
        o = _map(owner, "ownerReference")
        if (uid and o.get("uid") == uid) or (not uid and o.get("kind") == "Deployment" and o.get("name") == name):
            return True
    return False


def _rollout_history(
    deployment: Mapping[str, Any], replica_sets: Sequence[Mapping[str, Any]]
) -> tuple[RolloutRevision, ...]:
    meta = _map(deployment.get("metadata"), "deployment.metadata")
    uid, name = _str(meta.get("uid")), _str(meta.get("name"))
    revisions = []
    for i, rs in enumerate(replica_sets):
        rs = _map(rs, f"replica_sets[{i}]")
        if not _owned_by(rs, uid, name):
            continue
        rs_meta = _map(rs.get("metadata"), f"replica_sets[{i}].metadata")
        annotations = _map(rs_meta.get("annotations"), f"replica_sets[{i}].metadata.annotations")
        try:
            revision = int(str(annotations.get(REVISION_ANNOTATION, "")))
        except ValueError:
            continue  # not a Deployment revision
        where = f"replica_sets[{i}].spec.template.spec"
        template = _map(_map(_map(rs.get("spec"), where).get("template"), where).get("spec"), where)
        images = tuple(_str(c.get("image")) for c in _containers(template, where))
        revisions.append(
            RolloutRevision(
                revision=revision,
                created_at=_str(rs_meta.get("creationTimestamp")),
                images=images,
                change_cause=_str(annotations.get(CHANGE_CAUSE_ANNOTATION)),
            )
        )
    return tuple(sorted(revisions, key=lambda r: r.revision))


def _pod_status(pod: Mapping[str, Any], container: str, where: str) -> PodStatus:
    meta = _map(pod.get("metadata"), f"{where}.metadata")
    status = _map(pod.get("status"), f"{where}.status")
    statuses = [_map(s, f"{where}.status.containerStatuses[]") for s in _list(status.get("containerStatuses"), where)]
    statuses.sort(key=lambda s: s.get("name") != container)  # the incident's container first
    conditions = [_map(c, f"{where}.status.conditions[]") for c in _list(status.get("conditions"), where)]
    ready_condition = next((c for c in conditions if c.get("type") == "Ready"), None)
    ready = (
        ready_condition.get("status") == "True"
        if ready_condition
        else bool(statuses) and all(s.get("ready") is True for s in statuses)
    )
    termination = next(
        (
            _str(_map(_map(s.get("lastState"), "lastState").get("terminated"), "terminated").get("reason"))
            for s in statuses
            if _map(_map(s.get("lastState"), "lastState").get("terminated"), "terminated").get("reason")
        ),
        "",
    )
    waiting = next(
        (
            _str(_map(_map(s.get("state"), "state").get("waiting"), "waiting").get("reason"))
            for s in statuses
            if _map(_map(s.get("state"), "state").get("waiting"), "waiting").get("reason")
        ),
        "",
    )
    restarts = sum(int(s.get("restartCount") or 0) for s in statuses)
    return PodStatus(
        name=_str(meta.get("name")),
        phase=_str(status.get("phase")),
        ready=ready,
        restart_count=restarts,
        last_termination_reason=termination,
        waiting_reason=waiting or _str(status.get("reason")),
        node=_str(_map(pod.get("spec"), f"{where}.spec").get("nodeName")),
    )


def _event(event: Mapping[str, Any], where: str) -> EventRecord:
    meta = _map(event.get("metadata"), f"{where}.metadata")
    series = _map(event.get("series"), f"{where}.series")
    count = event.get("count") or series.get("count") or 1
    last_seen = (
        _str(event.get("lastTimestamp"))
        or _str(series.get("lastObservedTime"))
        or _str(event.get("eventTime"))
        or _str(meta.get("creationTimestamp"))
    )
    involved = _map(event.get("involvedObject") or event.get("regarding"), f"{where}.involvedObject")
    return EventRecord(
        type=_str(event.get("type")),
        reason=_str(event.get("reason")),
        message=_str(event.get("message") or event.get("note")),
        count=int(count) if isinstance(count, int | float) else 1,
        last_seen=last_seen,
        object_name=_str(involved.get("name")),
    )


def build_incident_context(
    *,
    incident_id: str,
    kind: str,
    deployment: Mapping[str, Any],
    replica_sets: Sequence[Mapping[str, Any]] = (),
    pods: Sequence[Mapping[str, Any]] = (),
    events: Sequence[Mapping[str, Any]] = (),
    logs: Mapping[str, str] | None = None,
    cluster: str = "",
    pod: str = "",
    container: str = "",
    metric_type: str = "",
    started_at: str = "",
    observed_value: float | None = None,
    threshold_value: float | None = None,
    anomaly_score: float | None = None,
    top_features: Mapping[str, float] | None = None,
) -> IncidentContext:
    """The incident context for ``deployment`` (a Deployment object as the API returns it).

    ``pods`` and ``events`` may be whole-namespace lists: only the Deployment's own pods (those
    whose ReplicaSet it owns) and events about the Deployment, its ReplicaSets and pods are kept.
    ``logs`` maps pod name -> the text the log endpoint returned; its last lines are kept.
    """
    deployment = _map(deployment, "deployment")
    meta = _map(deployment.get("metadata"), "deployment.metadata")
    name, namespace = _str(meta.get("name")), _str(meta.get("namespace"))
    if not name or not namespace:
        raise ContextError("deployment.metadata: name and namespace are required")
    uid = _str(meta.get("uid"))

    owned_rs = [
        _map(rs, f"replica_sets[{i}]")
        for i, rs in enumerate(_list(replica_sets, "replica_sets"))
        if _owned_by(_map(rs, f"replica_sets[{i}]"), uid, name)
    ]
    rs_names = {_str(_map(rs.get("metadata"), "metadata").get("name")) for rs in owned_rs}
    own_pods = []
    for i, p in enumerate(_list(pods, "pods")):
        p = _map(p, f"pods[{i}]")
        owners = _list(_map(p.get("metadata"), f"pods[{i}].metadata").get("ownerReferences"), "ownerReferences")
        if any(_map(o, "ownerReference").get("name") in rs_names for o in owners):
            own_pods.append(_pod_status(p, container, f"pods[{i}]"))
    pod_names = {p.name for p in own_pods} | ({pod} if pod else set())
    related = {name} | rs_names | pod_names
    own_events = tuple(
        record
        for record in (_event(_map(e, f"events[{i}]"), f"events[{i}]") for i, e in enumerate(_list(events, "events")))
        if record.object_name in related
    )
    log_lines = {
        pod_name: tuple(text.splitlines()[-MAX_LOG_LINES:])
        for pod_name, text in (logs or {}).items()
        if isinstance(text, str) and text
    }
    return IncidentContext(
        incident_id=incident_id,
        kind=kind,
        namespace=namespace,
        deployment=name,
        cluster=cluster,
        pod=pod,
        container=container,
        metric_type=metric_type,
        started_at=started_at,
        observed_value=observed_value,
        threshold_value=threshold_value,
        anomaly_score=anomaly_score,
        top_features=dict(top_features or {}),
        rollout_history=_rollout_history(deployment, owned_rs),
        pod_statuses=tuple(own_pods),
        last_log_lines=log_lines,
        events=own_events,
        containers=_container_specs(deployment),
    )
