"""The project's remediation actions as the reasoner may name them, with strict parameter checks.

This is the whole vocabulary a plan can use. Each action lists its parameters and a checker
that either returns the normalised parameters or raises :class:`ParameterError` saying what is
wrong. Unknown keys, missing keys, wrong types and out-of-range values are all rejected: the
model's answer is untrusted input.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# Kubernetes object names (RFC 1123 subdomain), which is what pods, nodes and containers use.
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")

MAX_REPLICAS = 1000
MAX_REVISION = 2**31 - 1
MAX_MEMORY_FACTOR = 4.0


class ParameterError(ValueError):
    """An action's parameters are wrong; the message says which and why."""


def _exact_keys(params: Mapping[str, Any], expected: tuple[str, ...], action: str) -> None:
    extra = sorted(set(params) - set(expected))
    missing = [key for key in expected if key not in params]
    if extra:
        raise ParameterError(f"{action}: unexpected parameter(s) {', '.join(extra)}")
    if missing:
        raise ParameterError(f"{action}: missing parameter(s) {', '.join(missing)}")


def _name(params: Mapping[str, Any], key: str, action: str) -> str:
    value = params[key]
    if not isinstance(value, str) or not _K8S_NAME.match(value):
        raise ParameterError(f"{action}.{key}: expected a Kubernetes object name, got {value!r}")
    return value


def _integer(params: Mapping[str, Any], key: str, action: str, low: int, high: int) -> int:
    value = params[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParameterError(f"{action}.{key}: expected an integer, got {type(value).__name__}")
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise ParameterError(f"{action}.{key}: expected an integer, got {value!r}")
    number = int(value)
    if not low <= number <= high:
        raise ParameterError(f"{action}.{key}: {number} is outside [{low}, {high}]")
    return number


def _no_parameters(params: Mapping[str, Any], action: str) -> dict[str, Any]:
    _exact_keys(params, (), action)
    return {}


def _check_restart(params: Mapping[str, Any]) -> dict[str, Any]:
    return _no_parameters(params, "restart")


def _check_delete_pod(params: Mapping[str, Any]) -> dict[str, Any]:
    _exact_keys(params, ("pod",), "delete_pod")
    return {"pod": _name(params, "pod", "delete_pod")}


def _check_scale_out(params: Mapping[str, Any]) -> dict[str, Any]:
    _exact_keys(params, ("replicas",), "scale_out")
    return {"replicas": _integer(params, "replicas", "scale_out", 1, MAX_REPLICAS)}


def _check_rollback(params: Mapping[str, Any]) -> dict[str, Any]:
    _exact_keys(params, ("to_revision",), "rollback")
    return {"to_revision": _integer(params, "to_revision", "rollback", 0, MAX_REVISION)}


def _check_raise_memory(params: Mapping[str, Any]) -> dict[str, Any]:
    _exact_keys(params, ("container", "factor"), "raise_memory")
    factor = params["factor"]
    if isinstance(factor, bool) or not isinstance(factor, int | float) or not math.isfinite(factor):
        raise ParameterError(f"raise_memory.factor: expected a number, got {factor!r}")
    if not 1.0 < float(factor) <= MAX_MEMORY_FACTOR:
        raise ParameterError(f"raise_memory.factor: {factor} is outside (1, {MAX_MEMORY_FACTOR:g}]")
    return {"container": _name(params, "container", "raise_memory"), "factor": float(factor)}


def _check_drain_node(params: Mapping[str, Any]) -> dict[str, Any]:
    _exact_keys(params, ("node",), "drain_node")
    return {"node": _name(params, "node", "drain_node")}


def _check_cleanup_evicted(params: Mapping[str, Any]) -> dict[str, Any]:
    return _no_parameters(params, "cleanup_evicted")


def _check_cleanup_jobs(params: Mapping[str, Any]) -> dict[str, Any]:
    return _no_parameters(params, "cleanup_jobs")


@dataclass(frozen=True)
class ActionSpec:
    name: str
    description: str
    parameters: tuple[str, ...]
    check: Callable[[Mapping[str, Any]], dict[str, Any]]


ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec("restart", "rolling restart of the Deployment (kubectl rollout restart)", (), _check_restart),
        ActionSpec("delete_pod", "delete one pod so its ReplicaSet replaces it", ("pod",), _check_delete_pod),
        ActionSpec(
            "scale_out",
            "set the Deployment's replica count to `replicas` (>= 1)",
            ("replicas",),
            _check_scale_out,
        ),
        ActionSpec(
            "rollback",
            "roll the Deployment back to `to_revision` (0 = the previous revision)",
            ("to_revision",),
            _check_rollback,
        ),
        ActionSpec(
            "raise_memory",
            "multiply `container`'s memory limit by `factor` (1 < factor <= 4)",
            ("container", "factor"),
            _check_raise_memory,
        ),
        ActionSpec("drain_node", "cordon and drain `node`", ("node",), _check_drain_node),
        ActionSpec("cleanup_evicted", "delete evicted pods in the namespace", (), _check_cleanup_evicted),
        ActionSpec("cleanup_jobs", "delete finished Jobs in the namespace", (), _check_cleanup_jobs),
    )
}

ACTION_NAMES: tuple[str, ...] = tuple(ACTIONS)

# Every parameter any action takes, for the response schema's `parameters` object.
ALL_PARAMETERS: tuple[str, ...] = tuple(dict.fromkeys(p for spec in ACTIONS.values() for p in spec.parameters))


def check_parameters(action: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Normalised parameters for a known action; :class:`ParameterError` when they are wrong."""
    return ACTIONS[action].check(params)
