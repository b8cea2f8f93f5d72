"""Field validation for created and updated objects, answered as 422 Invalid like the API server."""

from __future__ import annotations

import re
from typing import Any

from kube_standin.errors import ApiError, invalid
from kube_standin.quantity import parse_quantity
from kube_standin.selectors import labels_match, selector_from_spec

Obj = dict[str, Any]
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
Causes = list[tuple[str, str]]


def check_name(name: Any, field: str, causes: Causes, label: bool = False) -> None:
    pattern, limit = (_DNS_LABEL, 63) if label else (_DNS_SUBDOMAIN, 253)
    if not isinstance(name, str) or not name:
        causes.append((field, "Required value"))
    elif len(name) > limit or not pattern.match(name):
        causes.append(
            (
                field,
                f'Invalid value: "{name}": a lowercase RFC 1123 {"label" if label else "subdomain"} must '
                "consist of lower case alphanumeric characters, '-' or '.', and must start and end with an "
                "alphanumeric character",
            )
        )


def _check_string_map(value: Any, field: str, causes: Causes) -> None:
    if value is None:
        return
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        causes.append((field, "Invalid value: must be a map of string keys to string values"))


def check_metadata(meta: Any, causes: Causes) -> None:
    if not isinstance(meta, dict):
        causes.append(("metadata", "Required value"))
        return
    check_name(meta.get("name"), "metadata.name", causes)
    _check_string_map(meta.get("labels"), "metadata.labels", causes)
    _check_string_map(meta.get("annotations"), "metadata.annotations", causes)


def _non_negative_int(value: Any, field: str, causes: Causes) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        causes.append((field, f"Invalid value: {value!r}: must be an integer"))
    elif value < 0:
        causes.append((field, f"Invalid value: {value}: must be greater than or equal to 0"))


def check_pod_spec(spec: Any, field: str, causes: Causes) -> None:
    if not isinstance(spec, dict):
        causes.append((field, "Required value"))
        return
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        causes.append((f"{field}.containers", "Required value"))
        return
    seen: set[str] = set()
    for index, container in enumerate(containers):
        where = f"{field}.containers[{index}]"
        if not isinstance(container, dict):
            causes.append((where, "Invalid value: must be an object"))
            continue
        name = container.get("name")
        check_name(name, f"{where}.name", causes, label=True)
        if isinstance(name, str):
            if name in seen:
                causes.append((f"{where}.name", f'Duplicate value: "{name}"'))
            seen.add(name)
        image = container.get("image")
        if not isinstance(image, str) or not image.strip():
            causes.append((f"{where}.image", "Required value"))
        _check_resources(container.get("resources"), f"{where}.resources", causes)
        env = container.get("env")
        if env is not None and (
            not isinstance(env, list) or not all(isinstance(e, dict) and isinstance(e.get("name"), str) for e in env)
        ):
            causes.append((f"{where}.env", "Invalid value: must be a list of {name, value} objects"))


def _check_resources(resources: Any, field: str, causes: Causes) -> None:
    if resources is None:
        return
    if not isinstance(resources, dict):
        causes.append((field, "Invalid value: must be an object"))
        return
    parsed: dict[str, dict[str, float]] = {}
    for section in ("requests", "limits"):
        values = resources.get(section) or {}
        if not isinstance(values, dict):
            causes.append((f"{field}.{section}", "Invalid value: must be a map"))
            continue
        parsed[section] = {}
        for resource, quantity in values.items():
            try:
                parsed[section][resource] = parse_quantity(quantity)
            except ValueError:
                causes.append((f"{field}.{section}[{resource}]", f"Invalid value: {quantity!r}: must be a quantity"))
    for resource, request in parsed.get("requests", {}).items():
        limit = parsed.get("limits", {}).get(resource)
        if limit is not None and request > limit:
            causes.append(
                (
                    f"{field}.requests",
                    f"Invalid value: must be less than or equal to {resource} limit of {limit:g}",
                )
            )


def _name(obj: Obj) -> str:
    meta = obj.get("metadata")
    return str(meta.get("name")) if isinstance(meta, dict) else "None"


def _as_map(value: Any, field: str, causes: Causes) -> Obj:
    """value when it is a map; {} (and a cause unless it is absent) otherwise."""
    if isinstance(value, dict):
        return value
    if value is not None:
        causes.append((field, f"Invalid value: must be an object, not {type(value).__name__}"))
    return {}


def _check_selector(selector: Obj, causes: Causes) -> bool:
    match_labels = selector.get("matchLabels")
    _check_string_map(match_labels, "spec.selector.matchLabels", causes)
    expressions = selector.get("matchExpressions")
    if expressions is not None and not (
        isinstance(expressions, list)
        and all(
            isinstance(e, dict)
            and isinstance(e.get("key"), str)
            and isinstance(e.get("values", []), list)
            and all(isinstance(v, str) for v in e.get("values") or [])
            for e in expressions
        )
    ):
        causes.append(("spec.selector.matchExpressions", "Invalid value: must be a list of {key, operator, values}"))
        return False
    return isinstance(match_labels, dict | type(None))


def _int_or_percent(value: Any) -> bool:
    if isinstance(value, int) and not isinstance(value, bool):
        return value >= 0
    return isinstance(value, str) and value.endswith("%") and value[:-1].isdigit()


def validate_status(kind: str, group: str, obj: Obj) -> None:
    """A status written through a status subresource must keep the shape controllers read."""
    causes: Causes = []
    status = _as_map(obj.get("status"), "status", causes)
    conditions = status.get("conditions")
    if conditions is not None and not (
        isinstance(conditions, list)
        and all(
            isinstance(c, dict) and isinstance(c.get("type"), str) and isinstance(c.get("status"), str)
            for c in conditions
        )
    ):
        causes.append(("status.conditions", "Invalid value: must be a list of {type, status, ...}"))
    for key in ("phase", "reason", "message"):
        if key in status and not isinstance(status[key], str | type(None)):
            causes.append((f"status.{key}", "Invalid value: must be a string"))
    for key, value in status.items():
        if key.endswith(("Replicas", "replicas")) and not (isinstance(value, int) and not isinstance(value, bool)):
            causes.append((f"status.{key}", "Invalid value: must be an integer"))
    if causes:
        raise invalid(kind, group, _name(obj), causes)


def validate_deployment(dep: Obj, old: Obj | None) -> None:
    causes: Causes = []
    check_metadata(dep.get("metadata"), causes)
    spec = dep.get("spec")
    if not isinstance(spec, dict):
        raise invalid("Deployment", "apps", _name(dep), [("spec", "Required value")])
    _non_negative_int(spec.get("replicas"), "spec.replicas", causes)
    for key in ("revisionHistoryLimit", "progressDeadlineSeconds", "minReadySeconds"):
        if key in spec and spec[key] is not None:
            _non_negative_int(spec[key], f"spec.{key}", causes)
    if "paused" in spec and not isinstance(spec["paused"], bool):
        causes.append(("spec.paused", "Invalid value: must be a boolean"))
    strategy = _as_map(spec.get("strategy"), "spec.strategy", causes)
    if strategy.get("type") not in ("RollingUpdate", "Recreate"):
        causes.append(("spec.strategy.type", f'Unsupported value: "{strategy.get("type")}"'))
    rolling = _as_map(strategy.get("rollingUpdate"), "spec.strategy.rollingUpdate", causes)
    for key in ("maxSurge", "maxUnavailable"):
        value = rolling.get(key)
        if value is not None and not _int_or_percent(value):
            causes.append(
                (f"spec.strategy.rollingUpdate.{key}", f"Invalid value: {value!r}: must be an int or a percentage")
            )
    selector = spec.get("selector")
    template = spec.get("template")
    template_meta = (
        _as_map(template.get("metadata"), "spec.template.metadata", causes) if isinstance(template, dict) else {}
    )
    if not isinstance(selector, dict) or not (selector.get("matchLabels") or selector.get("matchExpressions")):
        causes.append(("spec.selector", "Required value"))
    elif _check_selector(selector, causes) and isinstance(template, dict):
        labels = template_meta.get("labels")
        labels = labels if isinstance(labels, dict) else {}
        try:
            matches = labels_match(selector_from_spec(selector), labels)
        except ApiError as exc:
            causes.append(("spec.selector", exc.message))
            matches = True
        if not matches:
            causes.append(
                (
                    "spec.template.metadata.labels",
                    "Invalid value: `selector` does not match template `labels`",
                )
            )
    if old is not None and selector != (old.get("spec") or {}).get("selector"):
        causes.append(("spec.selector", "Invalid value: field is immutable"))
    if not isinstance(template, dict):
        causes.append(("spec.template", "Required value"))
    else:
        _check_string_map(template_meta.get("labels"), "spec.template.metadata.labels", causes)
        _check_string_map(template_meta.get("annotations"), "spec.template.metadata.annotations", causes)
        check_pod_spec(template.get("spec"), "spec.template.spec", causes)
    if causes:
        raise invalid("Deployment", "apps", _name(dep), causes)


def validate_scale(scale: Obj, name: str) -> None:
    causes: Causes = []
    spec = scale.get("spec")
    _non_negative_int(spec.get("replicas") if isinstance(spec, dict) else None, "spec.replicas", causes)
    if causes:
        raise invalid("Scale", "autoscaling", name, causes)


def validate_node(node: Obj) -> None:
    causes: Causes = []
    check_metadata(node.get("metadata"), causes)
    spec = _as_map(node.get("spec"), "spec", causes)
    unschedulable = spec.get("unschedulable")
    if unschedulable is not None and not isinstance(unschedulable, bool):
        causes.append(("spec.unschedulable", "Invalid value: must be a boolean"))
    taints = spec.get("taints")
    if taints is not None and not (
        isinstance(taints, list)
        and all(
            isinstance(t, dict) and isinstance(t.get("key"), str) and isinstance(t.get("effect"), str) for t in taints
        )
    ):
        causes.append(("spec.taints", "Invalid value: must be a list of {key, value, effect}"))
    if causes:
        raise invalid("Node", "", _name(node), causes)


POD_UPDATE_FORBIDDEN = (
    "Forbidden: pod updates may not change fields other than `spec.containers[*].image`, "
    "`spec.initContainers[*].image`, `spec.activeDeadlineSeconds`, `spec.tolerations` "
    "(only additions to existing tolerations) or `spec.terminationGracePeriodSeconds` "
    "(allow it to be set to 1 if it was previously negative)"
)


def validate_pod_update(new: Obj, old: Obj) -> None:
    """Pod specs are immutable apart from container images (and a few fields not modelled here)."""
    causes: Causes = []
    check_metadata(new.get("metadata"), causes)
    new_spec, old_spec = dict(_as_map(new.get("spec"), "spec", causes)), dict(old.get("spec") or {})
    new_containers, old_containers = new_spec.pop("containers", None), old_spec.pop("containers", [])
    if not (
        isinstance(new_containers, list)
        and len(new_containers) == len(old_containers)
        and all(isinstance(c, dict) and isinstance(c.get("image"), str) and c["image"] for c in new_containers)
    ):
        causes.append(("spec.containers", POD_UPDATE_FORBIDDEN))
    elif new_spec != old_spec or [{**c, "image": ""} for c in new_containers] != [
        {**c, "image": ""} for c in old_containers
    ]:
        causes.append(("spec", POD_UPDATE_FORBIDDEN))
    if causes:
        raise invalid("Pod", "", _name(new), causes)


def validate_generic(kind: str, group: str, obj: Obj) -> None:
    causes: Causes = []
    check_metadata(obj.get("metadata"), causes)
    if kind == "Pod":
        check_pod_spec(obj.get("spec"), "spec", causes)
    if kind == "Job":
        template = _as_map(_as_map(obj.get("spec"), "spec", causes).get("template"), "spec.template", causes)
        check_pod_spec(template.get("spec"), "spec.template.spec", causes)
    if kind == "Event" and not isinstance(obj.get("involvedObject"), dict):
        causes.append(("involvedObject", "Required value"))
    if kind == "PodDisruptionBudget":
        spec = _as_map(obj.get("spec"), "spec", causes)
        if spec.get("minAvailable") is not None and spec.get("maxUnavailable") is not None:
            causes.append(("spec", "Invalid value: minAvailable and maxUnavailable cannot be both set"))
        for key in ("minAvailable", "maxUnavailable"):
            value = spec.get(key)
            if value is not None and not _int_or_percent(value):
                causes.append((f"spec.{key}", f"Invalid value: {value!r}: must be an int or a percentage"))
        _check_selector(_as_map(spec.get("selector"), "spec.selector", causes), causes)
    if causes:
        raise invalid(kind, group, _name(obj), causes)
