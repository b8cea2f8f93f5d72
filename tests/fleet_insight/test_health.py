"""Health score: formula edge cases, and known answers on generated history."""

from __future__ import annotations

from pathlib import Path

import pytest

from fleet_insight.analysis import ReportOptions, build_report
from fleet_insight.health import COMPONENTS, HealthParams, HealthWeights, Signals, score, weighted_mean
from fleet_insight.nodes import parse_node_conditions
from fleet_insight.source import DuckDBSource
from fleet_insight.synthetic import SyntheticHistory


def test_no_data_gives_no_score() -> None:
    result = score(Signals(), period_hours=24)
    assert result.score is None
    assert all(v is None for v in result.components.values())
    assert weighted_mean([]) is None
    assert weighted_mean([(None, 10)]) is None


def test_clean_hour_scores_100_and_components_are_bounded() -> None:
    clean = score(Signals(windows=60, ready_windows=60, scored=60), period_hours=1)
    assert clean.score == 100.0
    assert clean.components["healing_held"] is None  # never healed: left out, not counted as good or bad
    awful = score(
        Signals(
            windows=60,
            ready_windows=0,
            restarts=500,
            ooms=500,
            pressure_windows=60,
            scored=60,
            anomalies=60,
            incidents=50,
            attempts=50,
            held=0,
        ),
        period_hours=1,
    )
    assert awful.score is not None and 0 <= awful.score < 5
    assert all(v is not None and 0 <= v <= 1 for v in awful.components.values())


def test_half_rates_and_weight_redistribution() -> None:
    params = HealthParams(restarts_half_per_hour=2.0)
    comps = score(Signals(windows=60, ready_windows=60, restarts=2), 1, params).components
    assert comps["restarts"] == pytest.approx(0.5)
    only_ready = HealthParams(weights=HealthWeights(**{c: (1.0 if c == "ready" else 0.0) for c in COMPONENTS}))
    assert score(Signals(windows=10, ready_windows=7), 1, only_ready).score == pytest.approx(70.0)
    # healing rows only (no features): scored from the healing components alone
    healing_only = score(Signals(incidents=2, attempts=2, held=1), 24, HealthParams(healing_half_per_day=2.0))
    assert healing_only.score is not None
    assert healing_only.components["ready"] is None
    assert healing_only.components["healing_held"] == pytest.approx(0.5)


def test_invalid_parameters_are_rejected() -> None:
    with pytest.raises(ValueError, match="must be > 0"):
        HealthParams(recur_hours=0)
    with pytest.raises(ValueError, match="weight"):
        HealthWeights(ready=-1)
    with pytest.raises(ValueError, match="period_hours"):
        score(Signals(windows=1), 0)


def test_signals_add_up() -> None:
    a = Signals(windows=1, restarts=2, node_pressure=(1, 3), node_ready=1)
    b = Signals(windows=2, restarts=1, node_pressure=(0, 3), node_ready=0)
    total = a + b
    assert (total.windows, total.restarts, total.node_pressure, total.node_ready) == (3, 3, (1, 6), 0)


def test_generated_fleet_known_answers(fleet_db: Path, history: SyntheticHistory) -> None:
    source = DuckDBSource(fleet_db)
    try:
        report = build_report(
            source,
            ReportOptions(
                history.start,
                history.end,
                deployments=history.deployments,
                node_conditions=parse_node_conditions(history.node_conditions),
            ),
        )
    finally:
        source.close()
    by_name = {w.name: w for w in report.workloads}
    steady, flapping, oom = by_name["frontend"], by_name["checkout"], by_name["cart"]
    assert steady.health.score is not None and flapping.health.score is not None and oom.health.score is not None
    assert flapping.health.score < steady.health.score - 20
    assert oom.health.score < steady.health.score - 20
    assert flapping.health.components["healing_held"] is not None
    assert flapping.health.components["healing_held"] < 0.5  # restarted, came back every time
    assert steady.signals.incidents == 0 and flapping.signals.restarts > 0
    # the flapping deployment dips in the buckets where it bursts, the steady one never does
    assert min(s for s in flapping.series if s is not None) < min(s for s in steady.series if s is not None)
    # namespace shop holds the two bad workloads, batch does not
    ns = {n.name: n.health.score for n in report.namespaces}
    assert ns["shop"] is not None and ns["batch"] is not None and ns["shop"] < ns["batch"]
    # node health from healing rows and the passed conditions
    nodes = {n.name: n for n in report.nodes}
    assert set(nodes) == {"gke-demo-pool-1-a1b2", "gke-demo-pool-1-c3d4"}
    assert nodes["gke-demo-pool-1-a1b2"].signals.incidents == 1
    assert "DiskPressure" in nodes["gke-demo-pool-1-a1b2"].note
    assert (nodes["gke-demo-pool-1-a1b2"].health.score or 0) < (nodes["gke-demo-pool-1-c3d4"].health.score or 0)
    # recurring: checkout first, healed but back within the window
    assert report.recurring[0].target.name == "checkout"
    assert report.recurring[0].came_back > 0
    # advice: the always-OOM workload gets more memory than its current 256Mi limit
    cart = next(a for a in report.advice if a.name == "cart")
    limit = cart.containers[0].memory_limit
    assert limit.current is not None and limit.value is not None and limit.value > limit.current


def test_node_conditions_accept_node_list_and_reject_bad_status() -> None:
    conditions = parse_node_conditions(
        {
            "kind": "NodeList",
            "items": [
                {"metadata": {"name": "n1"}, "status": {"conditions": [{"type": "Ready", "status": "False"}]}},
                {"metadata": {"name": "n2"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}},
            ],
        }
    )
    assert [c.node for c in conditions] == ["n1", "n2"]
    with pytest.raises(ValueError, match="status"):
        parse_node_conditions([{"node": "n1", "condition": "Ready", "status": "maybe"}])
    with pytest.raises(ValueError, match="node"):
        parse_node_conditions([{"condition": "Ready", "status": "True"}])


def test_advice_from_the_store_matches_advice_on_raw_history(fleet_db: Path, history: SyntheticHistory) -> None:
    """The report reads utilisation as 0.1 % histograms; the advice must match the raw series."""
    from fleet_insight.resources import UsageHistory, advise_container, containers_from_deployment

    source = DuckDBSource(fleet_db)
    try:
        report = build_report(source, ReportOptions(history.start, history.end, deployments=history.deployments))
    finally:
        source.close()
    for deployment in history.deployments:
        namespace, name, containers = containers_from_deployment(deployment)
        rows = [r for r in history.features if (r["namespace"], r["controller_name"]) == (namespace, name)]
        raw = UsageHistory(
            cpu_mean=[r["cpu_utilization_mean"] for r in rows],
            cpu_max=[r["cpu_utilization_max"] for r in rows],
            memory_mean=[r["memory_utilization_mean"] for r in rows],
            memory_max=[r["memory_utilization_max"] for r in rows],
            oom_events=sum(r["oom_killed_count"] for r in rows),
        )
        expected = advise_container(containers[0], raw)
        got = next(a for a in report.advice if a.name == name).containers[0]
        for key, rec in got.fields().items():
            want = expected.fields()[key]
            if want.value is None:
                assert rec.value is None
                continue
            assert rec.value is not None
            # bins round utilisation up by at most 0.1 % of the limit
            assert want.value <= rec.value <= want.value * 1.01 + 2**20, (name, key, want, rec)


def test_healing_rows_are_attributed_to_their_workload() -> None:
    from datetime import UTC, datetime

    from fleet_insight.incidents import fold_incidents, resolve_target

    known = {("c1", "shop"): ["cart", "cart-api"]}
    pod_row = {"cluster": "c1", "namespace": "shop", "target_kind": "Pod", "target_name": "cart-api-7d9f8b6c5-abcde"}
    assert resolve_target(pod_row, known).name == "cart-api"  # longest known prefix
    unknown_pod = {"cluster": "c1", "namespace": "shop", "target_kind": "Pod", "target_name": "web-7d9f8b6c5-abcde"}
    assert resolve_target(unknown_pod, known).name == "web"  # ReplicaSet and pod hash stripped
    node_row = {"incident_kind": "node_not_ready", "target_kind": "Node", "target_name": "n1", "namespace": "x"}
    assert (resolve_target(node_row, known).kind, resolve_target(node_row, known).name) == ("Node", "n1")
    job = {"cluster": "c1", "namespace": "batch", "target_kind": "Job", "target_name": "nightly"}
    assert resolve_target(job, known).kind == "Job"
    rows = [
        {"decided_at": datetime(2026, 11, 1, 0, 5), "incident_id": "i1", "outcome": "verified", "healed": True},
        {"decided_at": datetime(2026, 11, 1, 0, 0, tzinfo=UTC), "incident_id": "i1", "outcome": "acted"},
    ]
    (incident,) = fold_incidents([{**r, **job} for r in rows])
    assert incident.outcomes == ("acted", "verified") and incident.healed and incident.acted
    with pytest.raises(ValueError, match="decided_at"):
        fold_incidents([{"incident_id": "i2", "outcome": "acted"}])


def test_unknown_healing_history_is_left_out_not_counted_as_perfect() -> None:
    signals = Signals(windows=60, ready_windows=30)
    known = score(signals, 1)
    unknown = score(signals, 1, healing_known=False)
    assert known.components["healing_need"] == 1.0
    assert unknown.components["healing_need"] is None and unknown.components["healing_held"] is None
    assert unknown.score is not None and known.score is not None and unknown.score < known.score
