"""The reasoning layer's policy: one frozen dataclass, passed in by the healer (never read from os.environ).

Off by default. Every field is checked on construction so a bad policy file fails at start-up
with a message naming the field, not at the first incident.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from self_healing_service.reasoning.actions import ACTION_NAMES

DEFAULT_ALLOWED_ACTIONS: tuple[str, ...] = ("restart", "delete_pod", "scale_out", "rollback", "raise_memory")
DEFAULT_PROTECTED_NAMESPACES: tuple[str, ...] = (
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "gke-managed-system",
    "gke-gmp-system",
    "gmp-system",
    "gmp-public",
    "config-management-system",
    "istio-system",
)


class PolicyError(ValueError):
    """The reasoning policy is invalid; the message names the field."""


@dataclass(frozen=True)
class ReasoningPolicy:
    enabled: bool = False
    allowed_actions: tuple[str, ...] = DEFAULT_ALLOWED_ACTIONS
    protected_namespaces: tuple[str, ...] = DEFAULT_PROTECTED_NAMESPACES
    max_calls_per_incident: int = 2
    max_calls_per_hour: int = 20
    timeout_seconds: float = 20.0
    cache_ttl_seconds: float = 3600.0
    auto_run_confidence: float = 0.85  # at or above: auto_run (still through the healer's guards)
    min_confidence: float = 0.5  # below: the plan is dropped and the rules-based ladder runs
    max_steps: int = 3
    max_summary_bytes: int = 8192
    max_response_bytes: int = 65536
    circuit_failure_threshold: int = 3  # consecutive service failures that open the circuit
    circuit_open_seconds: float = 300.0
    model: str = "gemini-2.5-flash"
    endpoint_base_url: str = ""  # empty: the regional Vertex AI endpoint for `location`
    project: str = ""
    location: str = "europe-west1"

    def __post_init__(self) -> None:
        if not isinstance(self.enabled, bool):
            raise PolicyError(f"enabled: expected true or false, got {self.enabled!r}")
        unknown = [a for a in self.allowed_actions if a not in ACTION_NAMES]
        if unknown:
            raise PolicyError(
                f"allowed_actions: unknown action(s) {', '.join(unknown)}; known: {', '.join(ACTION_NAMES)}"
            )
        if any(not isinstance(ns, str) or not ns for ns in self.protected_namespaces):
            raise PolicyError("protected_namespaces: every entry must be a non-empty string")
        for name in (
            "max_calls_per_incident",
            "max_calls_per_hour",
            "max_steps",
            "max_summary_bytes",
            "max_response_bytes",
            "circuit_failure_threshold",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise PolicyError(f"{name}: expected an integer >= 1, got {value!r}")
        if self.max_summary_bytes < 1024:
            raise PolicyError(f"max_summary_bytes: at least 1024 is needed, got {self.max_summary_bytes}")
        for name in ("timeout_seconds", "cache_ttl_seconds", "circuit_open_seconds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value <= 0:
                raise PolicyError(f"{name}: expected a positive number of seconds, got {value!r}")
        for name in ("auto_run_confidence", "min_confidence"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
                raise PolicyError(f"{name}: expected a number in [0, 1], got {value!r}")
        if self.min_confidence > self.auto_run_confidence:
            raise PolicyError(
                f"min_confidence ({self.min_confidence}) must not exceed auto_run_confidence "
                f"({self.auto_run_confidence})"
            )
        for name in ("model", "location"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value or "/" in value or " " in value:
                raise PolicyError(f"{name}: expected a non-empty identifier without '/' or spaces, got {value!r}")
        if (
            isinstance(self.endpoint_base_url, str)
            and self.endpoint_base_url
            and not self.endpoint_base_url.startswith(("https://", "http://"))
        ):
            raise PolicyError(f"endpoint_base_url: expected an http(s) URL, got {self.endpoint_base_url!r}")
        for name in ("project", "endpoint_base_url"):
            if not isinstance(getattr(self, name), str):
                raise PolicyError(f"{name}: expected a string, got {getattr(self, name)!r}")
        if self.enabled and not self.project:
            raise PolicyError("project: required when the reasoning layer is enabled")
        if self.enabled and not self.allowed_actions:
            raise PolicyError("allowed_actions: at least one action is needed when the reasoning layer is enabled")

    @property
    def base_url(self) -> str:
        """The Vertex AI REST root: the configured one, else the regional (or global) endpoint."""
        if self.endpoint_base_url:
            return self.endpoint_base_url.rstrip("/")
        if self.location == "global":
            return "https://aiplatform.googleapis.com"
        return f"https://{self.location}-aiplatform.googleapis.com"

    def is_protected(self, namespace: str) -> bool:
        return namespace in self.protected_namespaces


_TUPLE_FIELDS = ("allowed_actions", "protected_namespaces")
_SECONDS_FIELDS = ("timeout_seconds", "cache_ttl_seconds", "circuit_open_seconds")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def _seconds(key: str, value: object) -> object:
    """Seconds from a number or a duration string like ``15s``, ``5m``, ``1h`` (as the policy file writes them)."""
    if isinstance(value, str):
        match = _DURATION.match(value)
        if not match:
            raise PolicyError(f"{key}: {value!r} is not a duration (e.g. 15s, 5m, 1h)")
        return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def policy_from_mapping(data: Mapping[str, Any]) -> ReasoningPolicy:
    """Build a policy from a decoded policy-file section; unknown keys and wrong types are rejected."""
    if not isinstance(data, Mapping):
        raise PolicyError(f"reasoning policy: expected a mapping, got {type(data).__name__}")
    known = {f.name for f in fields(ReasoningPolicy)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise PolicyError(f"reasoning policy: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in _TUPLE_FIELDS:
            if isinstance(value, str) or not isinstance(value, list | tuple):
                raise PolicyError(f"{key}: expected a list of strings, got {type(value).__name__}")
            values[key] = tuple(value)
        elif key in _SECONDS_FIELDS:
            values[key] = _seconds(key, value)
        else:
            values[key] = value
    return ReasoningPolicy(**values)
