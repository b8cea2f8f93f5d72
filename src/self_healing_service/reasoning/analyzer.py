"""Analyzer: incident context -> compact, scrubbed, size-bounded summary, plus its fingerprint.

The summary is what the reasoner sends to the model, so it is built from scrubbed text only:
environment values never appear (only variable names do), and every free-text field goes
through :func:`redaction.scrub` with the environment values as known secrets.

Size is bounded by ``max_bytes`` (UTF-8 of the compact JSON). When the full summary is too
large it is rebuilt under tighter limits, dropping the least useful parts first: older log
lines (error-looking lines and the target pod's tail are kept longest), then Normal events,
then healthy pods, then older revisions. What was left out is counted under ``omitted``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from self_healing_service.reasoning.context import IncidentContext, PodStatus
from self_healing_service.reasoning.redaction import scrub, scrub_image

_ERRORISH = re.compile(
    r"(?i)\b(error|err|exception|traceback|panic|fatal|fail(ed|ure)?|oom|killed|refused|timeout|timed out|"
    r"unavailable|denied|crash|critical|segfault|out of memory)\b"
)


@dataclass(frozen=True)
class _Limits:
    log_pods: int = 3
    log_lines: int = 20
    line_chars: int = 300
    events: int = 15
    normal_events: bool = True
    pods: int = 10
    revisions: int = 5
    text_chars: int = 300
    env_names: int = 30
    features: int = 5
    containers: int = 6


# Each step is tighter than the one before; the first that fits is used.
_LADDER: tuple[_Limits, ...] = (
    _Limits(),
    _Limits(log_lines=10, line_chars=200),
    _Limits(log_pods=2, log_lines=6, line_chars=160, events=10, normal_events=False),
    _Limits(log_pods=1, log_lines=4, line_chars=120, events=6, normal_events=False, pods=5, revisions=3),
    _Limits(
        log_pods=1,
        log_lines=2,
        line_chars=100,
        events=3,
        normal_events=False,
        pods=3,
        revisions=2,
        text_chars=120,
        env_names=10,
        features=3,
        containers=3,
    ),
    _Limits(
        log_pods=0,
        log_lines=0,
        line_chars=80,
        events=0,
        normal_events=False,
        pods=1,
        revisions=1,
        text_chars=80,
        env_names=0,
        features=3,
        containers=1,
    ),
)


@dataclass(frozen=True)
class IncidentSummary:
    data: Mapping[str, Any]
    fingerprint: str
    size_bytes: int
    truncated: bool

    def to_json(self) -> str:
        return _compact(self.data)


def _compact(data: object) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False, sort_keys=False)


def _size(data: object) -> int:
    return len(_compact(data).encode("utf-8"))


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())  # one line, no runs of whitespace
    return text if len(text) <= limit else text[: max(limit - 3, 0)] + "..."


def _pick_log_lines(lines: Sequence[str], keep: int, errorish: dict[str, bool]) -> tuple[list[str], int]:
    """The ``keep`` most useful lines in their original order: error-looking ones first, newest first."""
    if keep <= 0:
        return [], len(lines)
    if len(lines) <= keep:
        return list(lines), 0
    for line in lines:
        if line not in errorish:
            errorish[line] = _ERRORISH.search(line) is not None
    newest_first = list(reversed(range(len(lines))))
    errors = [i for i in newest_first if errorish[lines[i]]]
    others = [i for i in newest_first if not errorish[lines[i]]]
    # Always keep the very last line (what the process said before it died), then errors, then the tail.
    chosen: list[int] = [len(lines) - 1]
    for i in errors + others:
        if len(chosen) >= keep:
            break
        if i not in chosen:
            chosen.append(i)
    return [lines[i] for i in sorted(chosen)], len(lines) - len(chosen)


def _pod_rank(target_pod: str) -> Any:
    def rank(p: PodStatus) -> tuple[int, int, int, str]:
        return (0 if p.name == target_pod else 1, 1 if p.ready else 0, -p.restart_count, p.name)

    return rank


@dataclass
class _Memo:
    """Work shared by the ladder's attempts: each string is scrubbed and classified once."""

    scrubbed: dict[str, str] = field(default_factory=dict)
    errorish: dict[str, bool] = field(default_factory=dict)


def _build(ctx: IncidentContext, lim: _Limits, secrets: Iterable[str], memo: _Memo) -> dict[str, Any]:
    known = tuple(secrets)

    def text(value: str, limit: int | None = None) -> str:
        """Scrubbed, one line, at most ``limit`` characters. Only the incident's own object names
        (namespace, Deployment, pods, containers, nodes) skip scrubbing: plans must repeat them exactly."""
        clean = memo.scrubbed.get(value)
        if clean is None:
            clean = memo.scrubbed[value] = scrub(value, known)
        return _cut(clean, limit or lim.text_chars)

    omitted: dict[str, int] = {}

    features = sorted(ctx.top_features.items(), key=lambda kv: abs(kv[1]), reverse=True)
    incident: dict[str, Any] = {
        "kind": text(ctx.kind, 64),
        "metric_type": text(ctx.metric_type, 160),
        "started_at": text(ctx.started_at, 40),
        "observed_value": ctx.observed_value,
        "threshold_value": ctx.threshold_value,
        "anomaly_score": None if ctx.anomaly_score is None else round(ctx.anomaly_score, 4),
        "top_features": [
            {"feature": text(name, 80), "contribution": round(float(weight), 4)}
            for name, weight in features[: lim.features]
        ],
    }
    target = {
        "cluster": text(ctx.cluster, 100),
        "namespace": ctx.namespace[:63],
        "deployment": ctx.deployment[:253],
        "pod": ctx.pod[:253],
        "container": ctx.container[:63],
    }

    containers = []
    for spec in ctx.containers[: lim.containers]:
        env_names = sorted(spec.env)
        containers.append(
            {
                "name": spec.name[:63],
                "image": _cut(scrub_image(spec.image), 200),
                "resources": {
                    text(str(section), 16): {text(str(k), 32): text(str(v), 32) for k, v in dict(values).items()}
                    for section, values in dict(spec.resources).items()
                },
                "env_names": [text(n, 64) for n in env_names[: lim.env_names]],
            }
        )
    if len(ctx.containers) > lim.containers:
        omitted["containers"] = len(ctx.containers) - lim.containers

    history = sorted(ctx.rollout_history, key=lambda r: r.revision, reverse=True)
    rollout = [
        {
            "revision": r.revision,
            "created_at": text(r.created_at, 40),
            "images": [_cut(scrub_image(i), 200) for i in r.images[:6]],
            "change_cause": text(r.change_cause),
        }
        for r in history[: lim.revisions]
    ]
    if len(history) > lim.revisions:
        omitted["revisions"] = len(history) - lim.revisions

    ranked = sorted(ctx.pod_statuses, key=_pod_rank(ctx.pod))
    pods = [
        {
            "name": p.name[:253],
            "phase": text(p.phase, 32),
            "ready": p.ready,
            "restart_count": p.restart_count,
            "last_termination_reason": text(p.last_termination_reason, 120),
            "waiting_reason": text(p.waiting_reason, 120),
            "node": p.node[:253],
        }
        for p in ranked[: lim.pods]
    ]
    if len(ranked) > lim.pods:
        omitted["pods"] = len(ranked) - lim.pods

    candidates = [e for e in ctx.events if lim.normal_events or e.type != "Normal"]
    candidates.sort(key=lambda e: (e.last_seen, e.count), reverse=True)  # newest first (RFC 3339 sorts)
    candidates.sort(key=lambda e: e.type != "Warning")  # stable: Warnings first, each group newest first
    events = [
        {
            "type": text(e.type, 16),
            "reason": text(e.reason, 64),
            "message": text(e.message),
            "count": e.count,
            "last_seen": text(e.last_seen, 40),
            "object": text(e.object_name, 253),
        }
        for e in candidates[: lim.events]
    ]
    if len(ctx.events) > len(events):
        omitted["events"] = len(ctx.events) - len(events)

    log_pods = sorted(ctx.last_log_lines, key=lambda name: (name != ctx.pod, name))
    logs: dict[str, list[str]] = {}
    dropped_lines = 0
    for name in log_pods[: lim.log_pods]:
        chosen, dropped = _pick_log_lines(tuple(ctx.last_log_lines[name]), lim.log_lines, memo.errorish)
        dropped_lines += dropped
        if chosen:
            logs[name[:253]] = [text(line, lim.line_chars) for line in chosen]
    for name in log_pods[lim.log_pods :]:
        dropped_lines += len(ctx.last_log_lines[name])
    if dropped_lines:
        omitted["log_lines"] = dropped_lines

    return {
        "incident": incident,
        "target": target,
        "containers": containers,
        "rollout_history": rollout,
        "pods": pods,
        "events": events,
        "logs": logs,
        "omitted": omitted,
    }


def fingerprint(ctx: IncidentContext) -> str:
    """A stable hash of what characterises the situation, not the particular alert.

    Two incidents with the same kind, target, images, failure reasons and top anomaly features
    share a fingerprint (and so a cached answer); observed values, pod names and incident ids do not
    enter it. A cached plan is still checked against the new incident's own pods and revisions.
    """
    features = sorted(ctx.top_features.items(), key=lambda kv: abs(kv[1]), reverse=True)[:5]
    salient = {
        "kind": ctx.kind,
        "metric_type": ctx.metric_type,
        "cluster": ctx.cluster,
        "namespace": ctx.namespace,
        "deployment": ctx.deployment,
        "container": ctx.container,
        "images": sorted({c.image for c in ctx.containers}),
        "termination_reasons": sorted({p.last_termination_reason for p in ctx.pod_statuses} - {""}),
        "waiting_reasons": sorted({p.waiting_reason for p in ctx.pod_statuses} - {""}),
        "warning_events": sorted({e.reason for e in ctx.events if e.type == "Warning"} - {""}),
        "top_features": sorted(name for name, _ in features),
        "latest_revision": max(ctx.revisions, default=0),
    }
    return hashlib.sha256(_compact(salient).encode("utf-8")).hexdigest()[:32]


def summarise(ctx: IncidentContext, max_bytes: int) -> IncidentSummary:
    """Build the scrubbed summary, tightening limits until its compact JSON fits ``max_bytes``."""
    secrets = ctx.secret_values()
    memo = _Memo()
    data: dict[str, Any] = {}
    for step, limits in enumerate(_LADDER):
        data = _build(ctx, limits, secrets, memo)
        if step:
            data["omitted"]["truncated_to_fit_bytes"] = max_bytes
        if _size(data) <= max_bytes:
            return IncidentSummary(data, fingerprint(ctx), _size(data), truncated=step > 0)
    # Last resort: only the incident and its target, with short strings.
    tightest = replace(_LADDER[-1], text_chars=40, features=1, pods=0, revisions=0, containers=0)
    data = _build(ctx, tightest, secrets, memo)
    core = {"incident": data["incident"], "target": data["target"], "omitted": {"everything_else": True}}
    if _size(core) > max_bytes:
        raise ValueError(f"the incident's identifying fields alone exceed {max_bytes} bytes")
    return IncidentSummary(core, fingerprint(ctx), _size(core), truncated=True)
