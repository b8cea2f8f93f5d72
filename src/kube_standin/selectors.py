"""Label selectors (string and LabelSelector forms) and field selectors."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kube_standin.errors import ApiError, bad_request

_KEY = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # "=", "!=", "in", "notin", "exists", "!"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.operator == "exists":
            return present
        if self.operator == "!":
            return not present
        if self.operator in ("=", "in"):
            return present and labels[self.key] in self.values
        # "!=" and "notin" also match objects without the label, as in Kubernetes
        return not present or labels[self.key] not in self.values


LabelSelector = tuple[Requirement, ...]


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _check_key(key: str, whole: str) -> str:
    if not _KEY.match(key):
        raise bad_request(f"unable to parse requirement: invalid label key {key!r} in selector {whole!r}")
    return key


def _check_value(value: str, whole: str) -> str:
    if len(value) > 63 or not _VALUE.match(value):
        raise bad_request(f"unable to parse requirement: invalid label value {value!r} in selector {whole!r}")
    return value


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse 'app=web,tier!=db,env in (a,b),!legacy,canary' into requirements; 400 when malformed."""
    if not text:
        return ()
    requirements: list[Requirement] = []
    for part in _split_top_level(text):
        set_match = re.match(r"^(\S+)\s+(in|notin)\s+\((.*)\)$", part)
        if set_match:
            key, op, raw = set_match.groups()
            values = tuple(_check_value(v.strip(), text) for v in raw.split(",") if v.strip())
            requirements.append(Requirement(_check_key(key, text), op, values))
            continue
        for op_text, op in (("!=", "!="), ("==", "="), ("=", "=")):
            if op_text in part:
                key, value = part.split(op_text, 1)
                requirements.append(
                    Requirement(_check_key(key.strip(), text), op, (_check_value(value.strip(), text),))
                )
                break
        else:
            if part.startswith("!"):
                requirements.append(Requirement(_check_key(part[1:].strip(), text), "!"))
            else:
                requirements.append(Requirement(_check_key(part, text), "exists"))
    return tuple(requirements)


def selector_from_spec(spec: Mapping[str, Any] | None) -> LabelSelector:
    """Turn a metav1.LabelSelector dict (matchLabels / matchExpressions) into requirements."""
    if not spec:
        return ()
    requirements = [Requirement(k, "=", (str(v),)) for k, v in (spec.get("matchLabels") or {}).items()]
    operators = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}
    for expr in spec.get("matchExpressions") or []:
        op = operators.get(expr.get("operator", ""))
        if op is None:
            raise bad_request(f"unsupported label selector operator {expr.get('operator')!r}")
        requirements.append(Requirement(expr["key"], op, tuple(str(v) for v in expr.get("values") or ())))
    return tuple(requirements)


def selector_to_string(spec: Mapping[str, Any] | None) -> str:
    """Render a LabelSelector dict the way status.selector / Scale.status.selector shows it."""
    parts: list[str] = []
    for req in sorted(selector_from_spec(spec), key=lambda r: r.key):
        if req.operator == "=":
            parts.append(f"{req.key}={req.values[0]}")
        elif req.operator in ("in", "notin"):
            parts.append(f"{req.key} {req.operator} ({','.join(req.values)})")
        elif req.operator == "exists":
            parts.append(req.key)
        else:
            parts.append(f"!{req.key}")
    return ",".join(parts)


def labels_match(selector: LabelSelector, labels: Mapping[str, str] | None) -> bool:
    labels = labels or {}
    return all(req.matches(labels) for req in selector)


def _stringify(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _lookup(obj: Mapping[str, Any], path: str) -> Any:
    current: Any = obj
    for segment in path.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(segment)
    return current


COMMON_FIELDS = ("metadata.name", "metadata.namespace")
FIELDS_BY_RESOURCE: dict[str, tuple[str, ...]] = {
    "pods": (
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "status.phase",
        "status.podIP",
        "status.nominatedNodeName",
    ),
    "nodes": ("spec.unschedulable",),
    "events": (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    "namespaces": ("status.phase",),
    "replicasets": ("status.replicas",),
    "jobs": ("status.successful",),
}


FieldSelector = Callable[[Mapping[str, Any]], bool]


def parse_field_selector(text: str | None, resource: str) -> FieldSelector:
    """Parse 'spec.nodeName=n1,status.phase!=Running'; 400 for unsupported fields like the API server."""
    if not text:
        return lambda _obj: True
    supported = COMMON_FIELDS + FIELDS_BY_RESOURCE.get(resource, ())
    checks: list[tuple[str, bool, str]] = []
    for part in _split_top_level(text):
        field, negate, value = _split_field_term(part, text)
        if field not in supported:
            raise ApiError(400, f"field label not supported: {field}")
        checks.append((field, negate, value))

    def matches(obj: Mapping[str, Any]) -> bool:
        for field, negate, value in checks:
            actual = _field_value(obj, field)
            if (actual == value) == negate:
                return False
        return True

    return matches


def _split_field_term(part: str, whole: str) -> tuple[str, bool, str]:
    for op_text, negate in (("!=", True), ("==", False), ("=", False)):
        if op_text in part:
            field, value = (s.strip() for s in part.split(op_text, 1))
            return field, negate, value
    raise bad_request(f"invalid selector: '{whole}'; can't understand '{part}'")


def _field_value(obj: Mapping[str, Any], field: str) -> str:
    if field == "source":
        return _stringify(_lookup(obj, "source.component"))
    return _stringify(_lookup(obj, field))
