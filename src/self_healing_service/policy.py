"""Policy as code: which incident kinds map to which ladder of actions, and the guards.

The policy file is YAML, validated at start-up; every error names the line it is on.
With no file, :func:`default_policy` applies safe defaults: restart for high CPU and
anomalies, delete the pod then roll back for crash loops, raise memory for OOMs, all
with a 10-minute cooldown, small budgets and a cluster circuit breaker.

Example::

    version: 1
    defaults:
      cooldown: 10m
      budgets:
        per_target: {limit: 3, window: 1h}
        per_namespace: {limit: 10, window: 1h}
        per_cluster: {limit: 20, window: 1h}
      circuit_breaker: {limit: 30, window: 10m}
    rules:
      - name: web-cpu
        match: {kinds: [high_cpu], namespaces: ["shop", "web-*"], labels: {tier: web}}
        ladder:
          - action: restart
          - action: scale_out
            params: {max_replicas: 10, step: 2}
            approval: true
        verify: {timeout: 2m, recheck_after: 10m}
        on_exhausted: undo
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import yaml

from self_healing_service.incident import KNOWN_KINDS

ACTIONS = (
    "restart",
    "delete_pod",
    "scale_out",
    "rollback",
    "raise_memory",
    "drain_node",
    "cleanup_evicted",
    "cleanup_jobs",
)
KINDS = tuple(kind for kind in KNOWN_KINDS if kind != "unknown")  # what a rule may match
_ACTION_PARAMS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "restart": {},
    "delete_pod": {},
    "scale_out": {"max_replicas": int, "step": int, "scale_back_on_close": bool},
    "rollback": {"recent_rollout_window": str},
    "raise_memory": {"factor": (int, float), "cap": str},
    "drain_node": {"max_unavailable_share": (int, float)},
    "cleanup_evicted": {"older_than": str},
    "cleanup_jobs": {"older_than": str},
}
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


class PolicyError(ValueError):
    """The policy file is invalid; the message names the line and what is wrong."""


def parse_duration(value: object, where: str = "duration") -> float:
    if isinstance(value, bool):
        raise PolicyError(f"{where}: expected a duration like 30s, 10m or 1h, got {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise PolicyError(f"{where}: must not be negative")
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise PolicyError(f"{where}: expected a duration like 30s, 10m or 1h, got {value!r}")
    return float(match.group(1)) * _UNIT[match.group(2)]


@dataclass(frozen=True)
class Budget:
    limit: int
    window_seconds: float


@dataclass(frozen=True)
class MaintenanceWindow:
    days: tuple[str, ...]
    start_minute: int  # minutes after midnight UTC
    end_minute: int

    def contains(self, when: datetime) -> bool:
        when = when.astimezone(UTC)
        if _DAYS[when.weekday()] not in self.days:
            return False
        minute = when.hour * 60 + when.minute
        if self.start_minute <= self.end_minute:
            return self.start_minute <= minute < self.end_minute
        return minute >= self.start_minute or minute < self.end_minute


@dataclass(frozen=True)
class Step:
    action: str
    params: dict[str, Any] = field(default_factory=dict)
    approval: bool = False
    cooldown_seconds: float | None = None
    dry_run: bool | None = None


@dataclass(frozen=True)
class Match:
    kinds: tuple[str, ...] = ()
    clusters: tuple[str, ...] = ("*",)
    namespaces: tuple[str, ...] = ("*",)
    labels: dict[str, str] = field(default_factory=dict)

    def matches(self, kind: str, cluster: str, namespace: str, labels: Mapping[str, str]) -> bool:
        if self.kinds and kind not in self.kinds:
            return False
        if not any(fnmatch.fnmatchcase(cluster or "", pattern) for pattern in self.clusters):
            return False
        if not any(fnmatch.fnmatchcase(namespace or "", pattern) for pattern in self.namespaces):
            return False
        return all(labels.get(key) == value for key, value in self.labels.items())


@dataclass(frozen=True)
class Rule:
    name: str
    match: Match
    ladder: tuple[Step, ...]
    verify_timeout_seconds: float = 60.0
    recheck_after_seconds: float = 600.0
    on_exhausted: str = "escalate"  # escalate | undo


@dataclass(frozen=True)
class Defaults:
    cooldown_seconds: float = 600.0
    per_target: Budget = Budget(3, 3600.0)
    per_namespace: Budget = Budget(10, 3600.0)
    per_cluster: Budget = Budget(20, 3600.0)
    circuit_breaker: Budget = Budget(30, 600.0)
    dry_run: bool = False
    approval: bool = False
    maintenance_windows: tuple[MaintenanceWindow, ...] = ()


@dataclass(frozen=True)
class Policy:
    defaults: Defaults
    rules: tuple[Rule, ...]
    source: str = "built-in defaults"
    # the optional model-proposed plans section (validated by reasoning.policy_from_mapping); off when empty
    reasoning: dict[str, Any] = field(default_factory=dict)

    def rule_for(self, kind: str, cluster: str, namespace: str, labels: Mapping[str, str]) -> Rule | None:
        for rule in self.rules:
            if rule.match.matches(kind, cluster, namespace, labels):
                return rule
        return None

    def in_maintenance(self, when: datetime) -> MaintenanceWindow | None:
        for window in self.defaults.maintenance_windows:
            if window.contains(when):
                return window
        return None


def default_policy() -> Policy:
    return Policy(
        defaults=Defaults(),
        rules=(
            Rule(
                "high-cpu",
                Match(kinds=("high_cpu", "high_load")),
                (Step("restart"), Step("scale_out", {"max_replicas": 10, "step": 1})),
            ),
            Rule("crash-loop", Match(kinds=("crash_loop",)), (Step("rollback"), Step("delete_pod"))),
            Rule(
                "oom",
                Match(kinds=("oom_killed", "memory_pressure")),
                (Step("raise_memory", {"factor": 1.5, "cap": "4Gi"}),),
            ),
            Rule("anomaly", Match(kinds=("anomaly",)), (Step("restart"),)),
            Rule(
                "node-not-ready",
                Match(kinds=("node_not_ready",)),
                (Step("drain_node", {"max_unavailable_share": 0.2}),),
            ),
            Rule("evicted", Match(kinds=("evicted_pods",)), (Step("cleanup_evicted", {"older_than": "10m"}),)),
            Rule("failed-jobs", Match(kinds=("failed_job",)), (Step("cleanup_jobs", {"older_than": "1h"}),)),
        ),
    )


# ---------------------------------------------------------------- loading with line numbers


class _Node:
    """A YAML value with the line it came from."""

    def __init__(self, node: yaml.Node) -> None:
        self.node = node
        self.line = node.start_mark.line + 1


def _fail(node: yaml.Node | None, message: str, source: str) -> PolicyError:
    line = f"line {node.start_mark.line + 1}" if node is not None else "top"
    return PolicyError(f"{source}: {line}: {message}")


def _as_mapping(node: yaml.Node, where: str, source: str) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        raise _fail(node, f"{where} must be a mapping", source)
    out: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = str(key_node.value)
        if key in out:
            raise _fail(key_node, f"{where}: duplicate key {key!r}", source)
        out[key] = value_node
    return out


def _as_list(node: yaml.Node, where: str, source: str) -> list[yaml.Node]:
    if not isinstance(node, yaml.SequenceNode):
        raise _fail(node, f"{where} must be a list", source)
    return list(node.value)


def _scalar(node: yaml.Node, where: str, source: str) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise _fail(node, f"{where} must be a single value", source)
    return yaml.safe_load(yaml.serialize(node))


def _check_keys(
    mapping: dict[str, yaml.Node], allowed: tuple[str, ...], where: str, source: str, node: yaml.Node
) -> None:
    for key, value in mapping.items():
        if key not in allowed:
            raise _fail(value, f"{where}: unknown key {key!r} (allowed: {', '.join(allowed)})", source)
    del node


def _budget(node: yaml.Node, where: str, source: str) -> Budget:
    mapping = _as_mapping(node, where, source)
    _check_keys(mapping, ("limit", "window"), where, source, node)
    if "limit" not in mapping or "window" not in mapping:
        raise _fail(node, f"{where}: needs both 'limit' and 'window'", source)
    limit = _scalar(mapping["limit"], f"{where}.limit", source)
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise _fail(mapping["limit"], f"{where}.limit must be a whole number >= 0", source)
    try:
        window = parse_duration(_scalar(mapping["window"], f"{where}.window", source), f"{where}.window")
    except PolicyError as exc:
        raise _fail(mapping["window"], str(exc), source) from exc
    if window <= 0:
        raise _fail(mapping["window"], f"{where}.window must be positive", source)
    return Budget(limit, window)


def _duration(node: yaml.Node, where: str, source: str) -> float:
    try:
        return parse_duration(_scalar(node, where, source), where)
    except PolicyError as exc:
        raise _fail(node, str(exc), source) from exc


def _bool(node: yaml.Node, where: str, source: str) -> bool:
    value = _scalar(node, where, source)
    if not isinstance(value, bool):
        raise _fail(node, f"{where} must be true or false", source)
    return value


def _strings(node: yaml.Node, where: str, source: str) -> tuple[str, ...]:
    if isinstance(node, yaml.ScalarNode):
        return (str(_scalar(node, where, source)),)
    items = []
    for item in _as_list(node, where, source):
        value = _scalar(item, where, source)
        if not isinstance(value, str | int):
            raise _fail(item, f"{where} items must be strings", source)
        items.append(str(value))
    return tuple(items)


def _window(node: yaml.Node, where: str, source: str) -> MaintenanceWindow:
    mapping = _as_mapping(node, where, source)
    _check_keys(mapping, ("days", "start", "end"), where, source, node)
    for key in ("days", "start", "end"):
        if key not in mapping:
            raise _fail(node, f"{where}: missing {key!r}", source)
    days = tuple(d.lower()[:3] for d in _strings(mapping["days"], f"{where}.days", source))
    for day in days:
        if day not in _DAYS:
            raise _fail(mapping["days"], f"{where}.days: {day!r} is not a weekday ({', '.join(_DAYS)})", source)
    minutes = []
    for key in ("start", "end"):
        raw = str(_scalar(mapping[key], f"{where}.{key}", source))
        match = re.fullmatch(r"(\d{1,2}):(\d{2})", raw)
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
            raise _fail(mapping[key], f"{where}.{key}: expected HH:MM (UTC), got {raw!r}", source)
        minutes.append(int(match.group(1)) * 60 + int(match.group(2)))
    return MaintenanceWindow(days, minutes[0], minutes[1])


def _step(node: yaml.Node, where: str, source: str) -> Step:
    mapping = _as_mapping(node, where, source)
    _check_keys(mapping, ("action", "params", "approval", "cooldown", "dry_run"), where, source, node)
    if "action" not in mapping:
        raise _fail(node, f"{where}: missing 'action'", source)
    action = _scalar(mapping["action"], f"{where}.action", source)
    if action not in ACTIONS:
        raise _fail(
            mapping["action"], f"{where}.action: unknown action {action!r} (known: {', '.join(ACTIONS)})", source
        )
    params: dict[str, Any] = {}
    if "params" in mapping:
        allowed = _ACTION_PARAMS[action]
        for key, value_node in _as_mapping(mapping["params"], f"{where}.params", source).items():
            if key not in allowed:
                raise _fail(
                    value_node,
                    f"{where}.params: {action} takes no parameter {key!r} (allowed: {', '.join(allowed) or 'none'})",
                    source,
                )
            value = _scalar(value_node, f"{where}.params.{key}", source)
            expected = allowed[key]
            if isinstance(value, bool) and expected is not bool:
                raise _fail(value_node, f"{where}.params.{key}: wrong type", source)
            if not isinstance(value, expected):
                raise _fail(value_node, f"{where}.params.{key}: wrong type for {value!r}", source)
            params[key] = value
        if action == "raise_memory" and not 1.0 < float(params.get("factor", 1.5)) <= 4.0:
            raise _fail(mapping["params"], f"{where}.params.factor must be in (1, 4]", source)
        if action == "scale_out" and int(params.get("max_replicas", 10)) < 1:
            raise _fail(mapping["params"], f"{where}.params.max_replicas must be >= 1", source)
    return Step(
        action=str(action),
        params=params,
        approval=_bool(mapping["approval"], f"{where}.approval", source) if "approval" in mapping else False,
        cooldown_seconds=_duration(mapping["cooldown"], f"{where}.cooldown", source) if "cooldown" in mapping else None,
        dry_run=_bool(mapping["dry_run"], f"{where}.dry_run", source) if "dry_run" in mapping else None,
    )


def load_policy_text(text: str, source: str = "policy") -> Policy:
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"line {mark.line + 1}" if mark is not None else "top"
        raise PolicyError(f"{source}: {line}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if root is None:
        raise PolicyError(f"{source}: the file is empty")
    top = _as_mapping(root, "the policy", source)
    _check_keys(top, ("version", "defaults", "rules", "reasoning"), "the policy", source, root)
    if "version" not in top or _scalar(top["version"], "version", source) != 1:
        raise _fail(top.get("version", root), "version: must be 1", source)

    defaults = Defaults()
    if "defaults" in top:
        node = top["defaults"]
        d = _as_mapping(node, "defaults", source)
        _check_keys(
            d,
            ("cooldown", "budgets", "circuit_breaker", "dry_run", "approval", "maintenance_windows"),
            "defaults",
            source,
            node,
        )
        budgets = {}
        if "budgets" in d:
            b = _as_mapping(d["budgets"], "defaults.budgets", source)
            _check_keys(b, ("per_target", "per_namespace", "per_cluster"), "defaults.budgets", source, d["budgets"])
            budgets = {k: _budget(v, f"defaults.budgets.{k}", source) for k, v in b.items()}
        defaults = Defaults(
            cooldown_seconds=_duration(d["cooldown"], "defaults.cooldown", source)
            if "cooldown" in d
            else defaults.cooldown_seconds,
            per_target=budgets.get("per_target", defaults.per_target),
            per_namespace=budgets.get("per_namespace", defaults.per_namespace),
            per_cluster=budgets.get("per_cluster", defaults.per_cluster),
            circuit_breaker=_budget(d["circuit_breaker"], "defaults.circuit_breaker", source)
            if "circuit_breaker" in d
            else defaults.circuit_breaker,
            dry_run=_bool(d["dry_run"], "defaults.dry_run", source) if "dry_run" in d else False,
            approval=_bool(d["approval"], "defaults.approval", source) if "approval" in d else False,
            maintenance_windows=tuple(
                _window(w, f"defaults.maintenance_windows[{i}]", source)
                for i, w in enumerate(_as_list(d["maintenance_windows"], "defaults.maintenance_windows", source))
            )
            if "maintenance_windows" in d
            else (),
        )

    rules = []
    names: set[str] = set()
    for index, node in enumerate(_as_list(top.get("rules", yaml.SequenceNode("", [])), "rules", source)):
        where = f"rules[{index}]"
        r = _as_mapping(node, where, source)
        _check_keys(r, ("name", "match", "ladder", "verify", "on_exhausted"), where, source, node)
        for key in ("name", "match", "ladder"):
            if key not in r:
                raise _fail(node, f"{where}: missing {key!r}", source)
        name = str(_scalar(r["name"], f"{where}.name", source))
        if name in names:
            raise _fail(r["name"], f"{where}.name: duplicate rule name {name!r}", source)
        names.add(name)
        m = _as_mapping(r["match"], f"{where}.match", source)
        _check_keys(m, ("kinds", "clusters", "namespaces", "labels"), f"{where}.match", source, r["match"])
        kinds = _strings(m["kinds"], f"{where}.match.kinds", source) if "kinds" in m else ()
        for kind in kinds:
            if kind not in KINDS:
                raise _fail(
                    m["kinds"], f"{where}.match.kinds: unknown kind {kind!r} (known: {', '.join(KINDS)})", source
                )
        labels = {}
        if "labels" in m:
            for key, value_node in _as_mapping(m["labels"], f"{where}.match.labels", source).items():
                labels[key] = str(_scalar(value_node, f"{where}.match.labels.{key}", source))
        ladder_nodes = _as_list(r["ladder"], f"{where}.ladder", source)
        if not ladder_nodes:
            raise _fail(r["ladder"], f"{where}.ladder must have at least one step", source)
        verify_timeout, recheck = 60.0, 600.0
        if "verify" in r:
            v = _as_mapping(r["verify"], f"{where}.verify", source)
            _check_keys(v, ("timeout", "recheck_after"), f"{where}.verify", source, r["verify"])
            if "timeout" in v:
                verify_timeout = _duration(v["timeout"], f"{where}.verify.timeout", source)
            if "recheck_after" in v:
                recheck = _duration(v["recheck_after"], f"{where}.verify.recheck_after", source)
        on_exhausted = "escalate"
        if "on_exhausted" in r:
            on_exhausted = str(_scalar(r["on_exhausted"], f"{where}.on_exhausted", source))
            if on_exhausted not in ("escalate", "undo"):
                raise _fail(r["on_exhausted"], f"{where}.on_exhausted must be 'escalate' or 'undo'", source)
        rules.append(
            Rule(
                name=name,
                match=Match(
                    kinds=kinds,
                    clusters=_strings(m["clusters"], f"{where}.match.clusters", source) if "clusters" in m else ("*",),
                    namespaces=_strings(m["namespaces"], f"{where}.match.namespaces", source)
                    if "namespaces" in m
                    else ("*",),
                    labels=labels,
                ),
                ladder=tuple(_step(s, f"{where}.ladder[{i}]", source) for i, s in enumerate(ladder_nodes)),
                verify_timeout_seconds=verify_timeout,
                recheck_after_seconds=recheck,
                on_exhausted=on_exhausted,
            )
        )
    reasoning: dict[str, Any] = {}
    if "reasoning" in top:
        from self_healing_service.reasoning.policy import PolicyError as ReasoningPolicyError
        from self_healing_service.reasoning.policy import policy_from_mapping

        _as_mapping(top["reasoning"], "reasoning", source)
        reasoning = dict(yaml.safe_load(yaml.serialize(top["reasoning"])) or {})
        try:
            policy_from_mapping(reasoning)
        except ReasoningPolicyError as exc:
            raise _fail(top["reasoning"], f"reasoning: {exc}", source) from exc
    return Policy(defaults=defaults, rules=tuple(rules), source=source, reasoning=reasoning)


def load_policy(path: str) -> Policy:
    if not path:
        return default_policy()
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read the policy file: {exc.strerror}") from exc
    return load_policy_text(text, source=path)
