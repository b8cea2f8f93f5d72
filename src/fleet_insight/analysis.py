"""Everything the report shows, computed from a :class:`~fleet_insight.source.FleetSource`.

Three aggregate queries (features and anomaly scores per workload and time bucket,
healing rows in the range) and, when Deployment specs are given, one usage query
for the resource advice. The rest is pure Python over the results.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fleet_insight.health import DEFAULT_PARAMS, HealthParams, HealthScore, Signals, WorkloadKey, score, weighted_mean
from fleet_insight.incidents import (
    HealingSummary,
    Incident,
    Recurrence,
    RecurringTarget,
    fold_incidents,
    healing_summary,
    held_ids,
    recurrences,
    top_recurring,
)
from fleet_insight.nodes import NodeCondition, active_pressure, node_state
from fleet_insight.resources import (
    DEFAULT_POLICY,
    AdvicePolicy,
    DeploymentAdvice,
    UsageHistory,
    advise_container,
    containers_from_deployment,
)
from fleet_insight.source import FleetSource, SourceError, require

FEATURES_BY_BUCKET = """
SELECT
  cluster, namespace, COALESCE(controller_kind, 'Deployment') AS controller_kind, controller_name,
  DIV(UNIX_SECONDS(window_end) - 1 - UNIX_SECONDS(@start), @bucket_s) AS bucket,
  COUNT(*) AS windows,
  SUM(CASE WHEN COALESCE(pod_count, 1) > 0 AND COALESCE(restart_delta, 0) = 0
            AND COALESCE(oom_killed_count, 0) = 0 THEN 1 ELSE 0 END) AS ready_windows,
  SUM(COALESCE(restart_delta, 0)) AS restarts,
  SUM(COALESCE(oom_killed_count, 0)) AS ooms,
  SUM(CASE WHEN COALESCE(memory_utilization_max, 0) >= @pressure
            OR COALESCE(cpu_utilization_mean, 0) >= @pressure THEN 1 ELSE 0 END) AS pressure_windows
FROM {features}
WHERE window_end > @start AND window_end <= @end
GROUP BY 1, 2, 3, 4, 5
"""

ANOMALIES_BY_BUCKET = """
SELECT
  cluster, namespace, controller_name,
  DIV(UNIX_SECONDS(window_end) - 1 - UNIX_SECONDS(@start), @bucket_s) AS bucket,
  COUNT(*) AS scored,
  SUM(CASE WHEN COALESCE(is_anomaly, score > COALESCE(threshold, 1.0)) THEN 1 ELSE 0 END) AS anomalies
FROM {anomaly_scores}
WHERE window_end > @start AND window_end <= @end
GROUP BY 1, 2, 3, 4
"""

HEALING_ROWS = """
SELECT decided_at, incident_id, incident_kind, cluster, namespace, target_kind, target_name, pod,
       action, outcome, time_to_recover_s, healed
FROM {healing_actions}
WHERE decided_at >= @start AND decided_at <= @end
ORDER BY decided_at
"""

# Utilisation histograms per Deployment (bins of 1/@resolution of the limit, rounded up), so only
# a few hundred rows per Deployment come back however long the range is.
DEPLOYMENT_USAGE = """
SELECT cluster, namespace, controller_name, metric, bin, COUNT(*) AS n
FROM (
  SELECT cluster, namespace, controller_name, 'cpu_utilization_mean' AS metric, CEIL(cpu_utilization_mean * @resolution) AS bin
  FROM {features}
  WHERE window_end > @start AND window_end <= @end AND cpu_utilization_mean IS NOT NULL
    AND COALESCE(controller_kind, 'Deployment') = 'Deployment'
  UNION ALL
  SELECT cluster, namespace, controller_name, 'cpu_utilization_max' AS metric, CEIL(cpu_utilization_max * @resolution) AS bin
  FROM {features}
  WHERE window_end > @start AND window_end <= @end AND cpu_utilization_max IS NOT NULL
    AND COALESCE(controller_kind, 'Deployment') = 'Deployment'
  UNION ALL
  SELECT cluster, namespace, controller_name, 'memory_utilization_mean' AS metric, CEIL(memory_utilization_mean * @resolution) AS bin
  FROM {features}
  WHERE window_end > @start AND window_end <= @end AND memory_utilization_mean IS NOT NULL
    AND COALESCE(controller_kind, 'Deployment') = 'Deployment'
  UNION ALL
  SELECT cluster, namespace, controller_name, 'memory_utilization_max' AS metric, CEIL(memory_utilization_max * @resolution) AS bin
  FROM {features}
  WHERE window_end > @start AND window_end <= @end AND memory_utilization_max IS NOT NULL
    AND COALESCE(controller_kind, 'Deployment') = 'Deployment'
) AS u
GROUP BY 1, 2, 3, 4, 5
"""

DEPLOYMENT_OOMS = """
SELECT cluster, namespace, controller_name, SUM(COALESCE(oom_killed_count, 0)) AS ooms
FROM {features}
WHERE window_end > @start AND window_end <= @end
  AND COALESCE(controller_kind, 'Deployment') = 'Deployment'
GROUP BY 1, 2, 3
"""
USAGE_RESOLUTION = 1000

BUCKET_CHOICES = (300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 7 * 86400)
MAX_RANGE = timedelta(days=400)


class RangeError(ValueError):
    """The requested time range is unusable; the message says why."""


@dataclass(frozen=True)
class ReportOptions:
    start: datetime
    end: datetime
    bucket_seconds: int | None = None  # None: the smallest choice giving at most max_buckets
    max_buckets: int = 96
    params: HealthParams = DEFAULT_PARAMS
    policy: AdvicePolicy = DEFAULT_POLICY
    deployments: Sequence[Mapping[str, Any]] = ()
    node_conditions: Sequence[NodeCondition] = ()
    top_n: int = 10
    # Tables whose absence is a note rather than an error (features and/or healing_actions;
    # anomaly_scores is always optional). At least one of features/healing_actions must exist.
    allow_missing: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        validate_range(self.start, self.end)
        unknown = set(self.allow_missing) - {"features", "healing_actions", "anomaly_scores"}
        if unknown:
            raise RangeError(f"allow_missing: unknown table(s) {', '.join(sorted(unknown))}")
        if self.bucket_seconds is not None and self.bucket_seconds < 60:
            raise RangeError("bucket must be at least 60 seconds (the feature windows are 1 minute)")


def validate_range(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise RangeError("start and end must carry a time zone (e.g. 2026-01-01T00:00:00Z)")
    if end <= start:
        raise RangeError(f"end ({end.isoformat()}) must be after start ({start.isoformat()})")
    if end - start > MAX_RANGE:
        raise RangeError(f"time range is longer than {MAX_RANGE.days} days")


def choose_bucket(start: datetime, end: datetime, max_buckets: int) -> int:
    span = (end - start).total_seconds()
    for choice in BUCKET_CHOICES:
        if span / choice <= max_buckets:
            return choice
    return BUCKET_CHOICES[-1]


@dataclass
class SubjectHealth:
    """Health of one workload, namespace or node over the range and per bucket."""

    kind: str  # Deployment/StatefulSet/... | Namespace | Node
    cluster: str
    namespace: str
    name: str
    health: HealthScore
    signals: Signals
    series: list[float | None] = field(default_factory=list)
    note: str = ""

    def label(self) -> str:
        if self.kind in ("Namespace", "Node"):
            return self.name
        return f"{self.namespace}/{self.name}"


@dataclass
class FleetReport:
    source: str
    start: datetime
    end: datetime
    bucket_seconds: int
    bucket_starts: list[datetime]
    params: HealthParams
    fleet_score: float | None
    fleet_series: list[float | None]
    namespaces: list[SubjectHealth]
    workloads: list[SubjectHealth]
    nodes: list[SubjectHealth]
    incidents: list[Incident]
    recurring: list[RecurringTarget]
    comebacks: list[Recurrence]
    healing: list[HealingSummary]
    advice: list[DeploymentAdvice]
    notes: list[str]


def _bucket_of(moment: datetime, start: datetime, bucket_s: int, n: int) -> int:
    index = int((moment - start).total_seconds() // bucket_s)
    return min(max(index, 0), n - 1)


def build_report(source: FleetSource, options: ReportOptions) -> FleetReport:
    """Query ``source`` and compute health, incidents and advice for the options' range."""
    missing = source.missing()
    optional = set(options.allow_missing) | {"anomaly_scores"}
    if {"features", "healing_actions"} <= set(missing):
        optional -= {"features", "healing_actions"}  # nothing to report from: name both
    require(source, [t for t in ("features", "healing_actions") if t not in optional])
    notes: list[str] = []
    has_features = "features" not in missing
    has_healing = "healing_actions" not in missing
    has_scores = "anomaly_scores" not in missing
    if not has_features:
        notes.append(
            "features table not available: scores come from healing actions only, and there is no resource advice."
        )
    if not has_healing:
        notes.append("healing_actions table not available: no incidents, healing or comebacks to show.")
    if not has_scores:
        notes.append("anomaly_scores table not available: the anomaly component is left out.")

    start, end = options.start, options.end
    params = options.params
    bucket_s = options.bucket_seconds or choose_bucket(start, end, options.max_buckets)
    n = max(1, -(-int((end - start).total_seconds()) // bucket_s))
    bucket_starts = [start + timedelta(seconds=i * bucket_s) for i in range(n)]
    bucket_hours = bucket_s / 3600.0
    period_hours = (end - start).total_seconds() / 3600.0
    qp: dict[str, Any] = {"start": start, "end": end, "bucket_s": bucket_s, "pressure": params.pressure_utilisation}

    per_bucket: dict[WorkloadKey, dict[int, Signals]] = defaultdict(dict)
    for r in source.query(FEATURES_BY_BUCKET, qp) if has_features else []:
        key = WorkloadKey(r["cluster"] or "", r["namespace"], r["controller_kind"], r["controller_name"])
        b = min(max(int(r["bucket"]), 0), n - 1)
        per_bucket[key][b] = per_bucket[key].get(b, Signals()) + Signals(
            windows=int(r["windows"]),
            ready_windows=int(r["ready_windows"] or 0),
            restarts=int(r["restarts"] or 0),
            ooms=int(r["ooms"] or 0),
            pressure_windows=int(r["pressure_windows"] or 0),
        )
    by_name: dict[tuple[str, str, str], WorkloadKey] = {(k.cluster, k.namespace, k.name): k for k in per_bucket}

    def workload_key(cluster: str, namespace: str, name: str, kind: str = "Deployment") -> WorkloadKey:
        found = by_name.get((cluster, namespace, name))
        if found is None and not cluster:  # row without a cluster: the workload of that name, if unique
            matches = [k for (c, ns, n), k in by_name.items() if (ns, n) == (namespace, name)]
            found = matches[0] if len(matches) == 1 else None
        if found is None:
            found = WorkloadKey(cluster, namespace, kind, name)
            by_name[(cluster, namespace, name)] = found
        return found

    if has_scores:
        for r in source.query(ANOMALIES_BY_BUCKET, qp):
            key = workload_key(r["cluster"] or "", r["namespace"], r["controller_name"])
            b = min(max(int(r["bucket"]), 0), n - 1)
            per_bucket[key][b] = per_bucket[key].get(b, Signals()) + Signals(
                scored=int(r["scored"]), anomalies=int(r["anomalies"] or 0)
            )

    known: dict[tuple[str, str], list[str]] = defaultdict(list)
    for k in list(per_bucket):
        known[(k.cluster, k.namespace)].append(k.name)
    incidents = fold_incidents(source.query(HEALING_ROWS, qp) if has_healing else [], known)
    within = timedelta(hours=params.recur_hours)
    held = held_ids(incidents, within)

    node_buckets: dict[tuple[str, str], dict[int, Signals]] = defaultdict(dict)
    for inc in incidents:
        sig = Signals(incidents=1, attempts=int(inc.acted), held=int(inc.incident_id in held))
        b = _bucket_of(inc.started, start, bucket_s, n)
        t = inc.target
        if t.kind == "Node":
            node_buckets[(t.cluster, t.name)][b] = node_buckets[(t.cluster, t.name)].get(b, Signals()) + sig
        else:
            key = workload_key(t.cluster, t.namespace, t.name, t.kind)
            per_bucket[key][b] = per_bucket[key].get(b, Signals()) + sig

    workloads = []
    for key, buckets in per_bucket.items():
        total = _sum(buckets.values())
        series = [_score_or_none(buckets.get(i), bucket_hours, params, has_healing) for i in range(n)]
        workloads.append(
            SubjectHealth(
                key.kind,
                key.cluster,
                key.namespace,
                key.name,
                score(total, period_hours, params, has_healing),
                total,
                series,
            )
        )
    workloads.sort(key=lambda s: (s.health.score if s.health.score is not None else 101.0, s.label()))

    namespaces = _namespaces(workloads, per_bucket, n, bucket_hours, params)
    nodes = _nodes(node_buckets, options.node_conditions, period_hours, params, has_healing)
    fleet_score = weighted_mean((w.health.score, w.signals.windows) for w in workloads)
    fleet_series = [
        weighted_mean((w.series[i], per_bucket[_key(w)].get(i, Signals()).windows) for w in workloads) for i in range(n)
    ]
    advice = _advice(source, options, qp, notes) if has_features else []
    if has_features and not per_bucket:
        notes.append("no feature rows in this time range.")
    return FleetReport(
        source=source.describe(),
        start=start,
        end=end,
        bucket_seconds=bucket_s,
        bucket_starts=bucket_starts,
        params=params,
        fleet_score=fleet_score,
        fleet_series=fleet_series,
        namespaces=namespaces,
        workloads=workloads,
        nodes=nodes,
        incidents=incidents,
        recurring=top_recurring(incidents, within, options.top_n),
        comebacks=recurrences(incidents, within),
        healing=healing_summary(incidents),
        advice=advice,
        notes=notes,
    )


def _key(s: SubjectHealth) -> WorkloadKey:
    return WorkloadKey(s.cluster, s.namespace, s.kind, s.name)


def _sum(items: Any) -> Signals:
    total = Signals()
    for s in items:
        total = total + s
    return total


def _score_or_none(signals: Signals | None, hours: float, params: HealthParams, healing_known: bool) -> float | None:
    if signals is None:
        return None
    return score(signals, hours, params, healing_known).score


def _namespaces(
    workloads: list[SubjectHealth],
    per_bucket: Mapping[WorkloadKey, Mapping[int, Signals]],
    n: int,
    bucket_hours: float,
    params: HealthParams,
) -> list[SubjectHealth]:
    grouped: dict[tuple[str, str], list[SubjectHealth]] = defaultdict(list)
    for w in workloads:
        grouped[(w.cluster, w.namespace)].append(w)
    out = []
    for (cluster, namespace), members in grouped.items():
        total = _sum(m.signals for m in members)
        value = weighted_mean((m.health.score, m.signals.windows) for m in members)
        series = [
            weighted_mean((m.series[i], per_bucket[_key(m)].get(i, Signals()).windows) for m in members)
            for i in range(n)
        ]
        worst = min((m for m in members if m.health.score is not None), key=lambda m: m.health.score or 0, default=None)
        out.append(
            SubjectHealth(
                "Namespace",
                cluster,
                namespace,
                namespace,
                HealthScore(value, {}),
                total,
                series,
                note=f"worst: {worst.name} ({worst.health.score:.0f})" if worst else "",
            )
        )
    out.sort(key=lambda s: (s.health.score if s.health.score is not None else 101.0, s.name))
    return out


def _nodes(
    node_buckets: Mapping[tuple[str, str], Mapping[int, Signals]],
    conditions: Sequence[NodeCondition],
    period_hours: float,
    params: HealthParams,
    healing_known: bool,
) -> list[SubjectHealth]:
    totals: dict[str, tuple[str, Signals]] = {}
    for (cluster, node), buckets in node_buckets.items():
        totals[node] = (cluster, _sum(buckets.values()))
    pressure = active_pressure(conditions)
    for node, (ready, press) in node_state(conditions).items():
        cluster, sig = totals.get(node, ("", Signals()))
        totals[node] = (cluster, sig + Signals(node_ready=ready, node_pressure=press))
    out = []
    for node, (cluster, sig) in totals.items():
        note = ", ".join(pressure.get(node, []))
        if sig.node_ready == 0:
            note = "NotReady" + (f", {note}" if note else "")
        out.append(
            SubjectHealth("Node", cluster, "", node, score(sig, period_hours, params, healing_known), sig, note=note)
        )
    out.sort(key=lambda s: (s.health.score if s.health.score is not None else 101.0, s.name))
    return out


def deployment_advice(source: FleetSource, options: ReportOptions) -> tuple[list[DeploymentAdvice], list[str]]:
    """Resource advice for ``options.deployments`` over the options' range, and notes."""
    require(source, ("features",))
    notes: list[str] = []
    qp = {"start": options.start, "end": options.end}
    return _advice(source, options, qp, notes), notes


def _advice(
    source: FleetSource, options: ReportOptions, qp: Mapping[str, Any], notes: list[str]
) -> list[DeploymentAdvice]:
    if not options.deployments:
        notes.append(
            "no Deployment specs given (--deployments): resource advice needs the current requests/limits, "
            "because the features table stores utilisation relative to the limit."
        )
        return []
    specs = []
    for index, obj in enumerate(options.deployments):
        try:
            specs.append(containers_from_deployment(obj))
        except ValueError as exc:
            raise SourceError(f"Deployment #{index}: {exc}") from exc
    wanted = {(ns, name) for ns, name, _ in specs}
    usage: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    ooms: dict[tuple[str, str], int] = defaultdict(int)
    clusters: dict[tuple[str, str], str] = {}
    usage_qp = {**qp, "resolution": USAGE_RESOLUTION}
    for r in source.query(DEPLOYMENT_USAGE, usage_qp):
        k = (r["namespace"], r["controller_name"])
        if k in wanted:
            clusters.setdefault(k, r["cluster"] or "")
            usage[k][r["metric"]].extend([float(r["bin"]) / USAGE_RESOLUTION] * int(r["n"]))
    for r in source.query(DEPLOYMENT_OOMS, qp):
        k = (r["namespace"], r["controller_name"])
        if k in wanted:
            ooms[k] += int(r["ooms"] or 0)
    out = []
    for namespace, name, containers in specs:
        k = (namespace, name)
        u = usage.get(k, {})
        history = UsageHistory(
            cpu_mean=u.get("cpu_utilization_mean", []),
            cpu_max=u.get("cpu_utilization_max", []),
            memory_mean=u.get("memory_utilization_mean", []),
            memory_max=u.get("memory_utilization_max", []),
            oom_events=ooms.get(k, 0),
        )
        advised = tuple(advise_container(c, history, options.policy) for c in containers)
        out.append(DeploymentAdvice(clusters.get(k, ""), namespace, name, advised))
    out.sort(key=lambda a: (not a.changed, a.namespace, a.name))
    return out
