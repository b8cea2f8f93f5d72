"""Resource advice: recommended CPU/memory requests and limits from usage history.

Pure functions, standard library only. The memory-raise rule (:func:`recommend_memory_limit`,
:func:`raise_memory_limit`) lives in :mod:`healing_contract.quantity`, below both this report
and the healer's ``raise_memory`` action; the report calls :func:`advise_container` with the
usage history from the features table.

Units: CPU in cores, memory in bytes. The features table stores *utilisation*
(usage / limit), so converting to absolute usage needs the limit that was in force:
pass the current requests/limits from the Deployment spec (see
:func:`containers_from_deployment`). Without a limit the utilisation cannot be
converted and the corresponding advice is "keep".
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from healing_contract.quantity import (
    DEFAULT_POLICY,
    AdvicePolicy,
    Recommendation,
    clean_samples,
    format_cpu,
    format_memory,
    parse_cpu,
    parse_memory,
    percentile,
    percentile_label,
    raise_memory_limit,
    recommend_memory_limit,
    round_memory,
    within_tolerance,
)

__all__ = [  # the memory-raise rule lives in healing_contract.quantity; the report imports it from here too
    "DEFAULT_POLICY",
    "AdvicePolicy",
    "Recommendation",
    "percentile",
    "raise_memory_limit",
    "recommend_memory_limit",
]


@dataclass(frozen=True)
class ContainerResources:
    """Requests and limits of one container as set today (cores and bytes; None = not set)."""

    name: str
    cpu_request: float | None = None
    cpu_limit: float | None = None
    memory_request: int | None = None
    memory_limit: int | None = None


@dataclass(frozen=True)
class UsageHistory:
    """Per-window utilisation (fraction of the limit) of one workload, as the features table has it."""

    cpu_mean: Sequence[float] = ()
    cpu_max: Sequence[float] = ()
    memory_mean: Sequence[float] = ()
    memory_max: Sequence[float] = ()
    oom_events: int = 0


@dataclass(frozen=True)
class ContainerAdvice:
    container: ContainerResources
    cpu_request: Recommendation
    cpu_limit: Recommendation
    memory_request: Recommendation
    memory_limit: Recommendation
    samples: int = 0

    @property
    def changed(self) -> bool:
        return any(r.changed for r in self.fields().values())

    def fields(self) -> dict[str, Recommendation]:
        return {
            "cpu_request": self.cpu_request,
            "cpu_limit": self.cpu_limit,
            "memory_request": self.memory_request,
            "memory_limit": self.memory_limit,
        }


@dataclass(frozen=True)
class DeploymentAdvice:
    cluster: str
    namespace: str
    name: str
    containers: tuple[ContainerAdvice, ...] = field(default_factory=tuple)

    @property
    def changed(self) -> bool:
        return any(c.changed for c in self.containers)


# --------------------------------------------------------------------------- helpers


def _round_cpu(value: float) -> float:
    return math.ceil(round(value * 1000, 6) / 5) * 5 / 1000


# --------------------------------------------------------------------------- memory


def recommend_memory_request(
    usage_history: Sequence[float],
    current_request: int | None,
    limit: float | None,
    oom_events: int,
    policy: AdvicePolicy = DEFAULT_POLICY,
) -> Recommendation:
    """Recommended memory request in bytes from absolute mean usage per window; never above ``limit``."""
    samples = clean_samples(usage_history)
    typical = percentile(samples, policy.memory_request_percentile)
    current = float(current_request) if current_request is not None else None
    if typical is None:
        return Recommendation(current, current, "no usage history: keep")
    proposed = max(typical * policy.memory_request_headroom, float(policy.min_memory_bytes))
    label = f"{percentile_label(policy.memory_request_percentile)} x {policy.memory_request_headroom:g}"
    reason = f"{label} of mean usage"
    if limit is not None and proposed > limit:
        proposed, reason = limit, reason + ", capped at the limit"
    if current is not None:
        if oom_events > 0 and proposed < current:
            return Recommendation(current, current, "OOM kills seen: never lower the request")
        if proposed < current and len(samples) < policy.min_samples_to_lower:
            return Recommendation(current, current, f"only {len(samples)} samples: too few to lower")
        if within_tolerance(current, proposed, policy.tolerance) and (limit is None or current <= limit):
            return Recommendation(current, current, f"{reason} is within tolerance: keep")
        reason = f"{'raise' if proposed > current else 'lower'}: {reason}"
    return Recommendation(current, float(round_memory(proposed)), reason)


# --------------------------------------------------------------------------- CPU


def recommend_cpu(
    mean_usage: Sequence[float],
    max_usage: Sequence[float],
    current: ContainerResources,
    pinned: bool,
    policy: AdvicePolicy = DEFAULT_POLICY,
) -> tuple[Recommendation, Recommendation]:
    """(request, limit) in cores from absolute CPU usage per window (mean and max)."""
    req_now, lim_now = current.cpu_request, current.cpu_limit
    means, peaks = clean_samples(mean_usage), clean_samples(max_usage)
    typical = percentile(means, policy.cpu_request_percentile)
    peak = percentile(peaks, policy.cpu_limit_percentile)
    if typical is None or peak is None:
        return (
            Recommendation(req_now, req_now, "no usage history: keep"),
            Recommendation(lim_now, lim_now, "no usage history: keep"),
        )
    few = len(means) < policy.min_samples_to_lower

    req_label = f"{percentile_label(policy.cpu_request_percentile)} x {policy.cpu_request_headroom:g} of mean usage"
    req_value = max(typical * policy.cpu_request_headroom, policy.min_cpu_cores)

    lim_label = f"{percentile_label(policy.cpu_limit_percentile)} x {policy.cpu_limit_headroom:g} of peak usage"
    lim_value = max(peak * policy.cpu_limit_headroom, req_value)
    if pinned and lim_now is not None:
        lim_value = max(lim_value, lim_now * policy.oom_raise_factor)
        lim_label = f"pinned at the limit (throttled): at least {policy.oom_raise_factor:g} x current limit"
    if lim_now is not None:
        lim_value = min(lim_value, lim_now * policy.max_raise_factor)

    def decide(now: float | None, proposed: float, label: str) -> Recommendation:
        if now is None:
            return Recommendation(None, _round_cpu(proposed), f"not set; {label}")
        if proposed < now and few:
            return Recommendation(now, now, f"only {len(means)} samples: too few to lower")
        if within_tolerance(now, proposed, policy.tolerance):
            return Recommendation(now, now, f"{label} is within tolerance: keep")
        direction = "raise" if proposed > now else "lower"
        return Recommendation(now, _round_cpu(proposed), f"{direction}: {label}")

    request = decide(req_now, req_value, req_label)
    limit = decide(lim_now, lim_value, lim_label)
    if request.value is not None and limit.value is not None and request.value > limit.value:
        request = Recommendation(req_now, limit.value, "capped at the recommended limit")
    return request, limit


# --------------------------------------------------------------------------- per container


def advise_container(
    container: ContainerResources,
    usage: UsageHistory,
    policy: AdvicePolicy = DEFAULT_POLICY,
) -> ContainerAdvice:
    """All four recommendations for one container.

    Utilisation in ``usage`` is relative to the limits in ``container`` (the limits in
    force while the history was recorded). Features are aggregated per workload, so every
    container of a multi-container pod gets the workload's utilisation applied to its own
    limits (conservative: the max is the max over containers).
    """
    samples = max(len(usage.memory_max), len(usage.cpu_mean))
    if container.memory_limit is not None:
        mem_limit = container.memory_limit
        mem_peak_bytes = [u * mem_limit for u in clean_samples(usage.memory_max)]
        mem_mean_bytes = [u * mem_limit for u in clean_samples(usage.memory_mean)]
        memory_limit = recommend_memory_limit(mem_peak_bytes, mem_limit, usage.oom_events, policy)
        memory_request = recommend_memory_request(
            mem_mean_bytes, container.memory_request, memory_limit.value, usage.oom_events, policy
        )
    else:
        reason = "no memory limit set: utilisation (usage / limit) cannot be converted"
        memory_limit = Recommendation(None, None, reason)
        memory_request = Recommendation(container.memory_request, container.memory_request, reason)

    if container.cpu_limit is not None:
        cpu_limit_now = container.cpu_limit
        cpu_means = [u * cpu_limit_now for u in clean_samples(usage.cpu_mean)]
        cpu_peaks = [u * cpu_limit_now for u in clean_samples(usage.cpu_max)]
        peak_util = percentile(clean_samples(usage.cpu_max), policy.cpu_limit_percentile)
        pinned = peak_util is not None and peak_util >= policy.throttled_utilisation
        cpu_request, cpu_limit = recommend_cpu(cpu_means, cpu_peaks, container, pinned, policy)
    else:
        reason = "no CPU limit set: utilisation (usage / limit) cannot be converted"
        cpu_request = Recommendation(container.cpu_request, container.cpu_request, reason)
        cpu_limit = Recommendation(None, None, reason)
    return ContainerAdvice(container, cpu_request, cpu_limit, memory_request, memory_limit, samples)


# --------------------------------------------------------------------------- Deployment spec in


def containers_from_deployment(deployment: Mapping[str, Any]) -> tuple[str, str, list[ContainerResources]]:
    """(namespace, name, containers) from an apps/v1 Deployment object as the API returns it."""
    if not isinstance(deployment, Mapping):
        raise ValueError("a Deployment must be a JSON object")
    meta = deployment.get("metadata")
    if not isinstance(meta, Mapping) or not isinstance(meta.get("name"), str):
        raise ValueError("Deployment needs metadata.name")
    name = meta["name"]
    namespace = meta.get("namespace") or "default"
    try:
        containers = deployment["spec"]["template"]["spec"]["containers"]
    except (KeyError, TypeError) as exc:
        raise ValueError(f"Deployment {name!r} needs spec.template.spec.containers") from exc
    if not isinstance(containers, list):
        raise ValueError(f"Deployment {name!r}: spec.template.spec.containers must be a list")
    out = []
    for index, c in enumerate(containers):
        if not isinstance(c, Mapping) or not isinstance(c.get("name"), str):
            raise ValueError(f"Deployment {name!r}: container #{index} needs a name")
        res = c.get("resources") or {}
        requests = res.get("requests") or {}
        limits = res.get("limits") or {}
        out.append(
            ContainerResources(
                name=c["name"],
                cpu_request=parse_cpu(requests["cpu"]) if "cpu" in requests else None,
                cpu_limit=parse_cpu(limits["cpu"]) if "cpu" in limits else None,
                memory_request=parse_memory(requests["memory"]) if "memory" in requests else None,
                memory_limit=parse_memory(limits["memory"]) if "memory" in limits else None,
            )
        )
    return str(namespace), name, out


# --------------------------------------------------------------------------- patch and table out


def _quantities(advice: ContainerAdvice) -> tuple[dict[str, str], dict[str, str]]:
    """requests and limits after the advice (recommended value, else the current one)."""

    def pick(rec: Recommendation) -> float | None:
        return rec.value if rec.value is not None else rec.current

    cpu_req, cpu_lim = pick(advice.cpu_request), pick(advice.cpu_limit)
    mem_req, mem_lim = pick(advice.memory_request), pick(advice.memory_limit)
    if cpu_req is not None and cpu_lim is not None and cpu_req > cpu_lim:
        cpu_req = cpu_lim
    if mem_req is not None and mem_lim is not None and mem_req > mem_lim:
        mem_req = mem_lim
    requests: dict[str, str] = {}
    limits: dict[str, str] = {}
    if cpu_req is not None:
        requests["cpu"] = format_cpu(cpu_req)
    if mem_req is not None:
        requests["memory"] = format_memory(mem_req)
    if cpu_lim is not None:
        limits["cpu"] = format_cpu(cpu_lim)
    if mem_lim is not None:
        limits["memory"] = format_memory(mem_lim)
    return requests, limits


def strategic_merge_patch(advice: DeploymentAdvice) -> dict[str, Any] | None:
    """The patch for ``kubectl patch deployment NAME --type strategic -p ...``; None if nothing changes.

    Containers merge by name (the strategic-merge key of ``containers``); each changed
    container carries its complete requests/limits so requests never exceed limits.
    """
    containers = []
    for c in advice.containers:
        if not c.changed:
            continue
        requests, limits = _quantities(c)
        resources: dict[str, dict[str, str]] = {}
        if requests:
            resources["requests"] = requests
        if limits:
            resources["limits"] = limits
        containers.append({"name": c.container.name, "resources": resources})
    if not containers:
        return None
    return {"spec": {"template": {"spec": {"containers": containers}}}}


def kubectl_patch_command(advice: DeploymentAdvice) -> str | None:
    """A shell-quoted ``kubectl patch`` line applying :func:`strategic_merge_patch`."""
    import json
    import shlex

    patch = strategic_merge_patch(advice)
    if patch is None:
        return None
    body = json.dumps(patch, separators=(",", ":"), sort_keys=True)
    return (
        f"kubectl -n {shlex.quote(advice.namespace)} patch deployment {shlex.quote(advice.name)} "
        f"--type strategic -p {shlex.quote(body)}"
    )


@dataclass(frozen=True)
class AdviceRow:
    cluster: str
    namespace: str
    deployment: str
    container: str
    resource: str  # cpu_request | cpu_limit | memory_request | memory_limit
    current: str
    recommended: str
    reason: str
    changed: bool


def advice_rows(advice: DeploymentAdvice) -> list[AdviceRow]:
    """current vs recommended per container and resource, as quantity strings."""
    rows = []
    for c in advice.containers:
        for key, rec in c.fields().items():
            fmt = format_cpu if key.startswith("cpu") else format_memory
            rows.append(
                AdviceRow(
                    cluster=advice.cluster,
                    namespace=advice.namespace,
                    deployment=advice.name,
                    container=c.container.name,
                    resource=key,
                    current=fmt(rec.current) if rec.current is not None else "-",
                    recommended=fmt(rec.value) if rec.value is not None else "-",
                    reason=rec.reason,
                    changed=rec.changed,
                )
            )
    return rows
