"""The anomaly model's inputs: history from the stand-in's metrics source, and live feature rows."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dataflow.metric_parser import parse_metric_line
from local_scenario.anomaly import workload_feature_rows
from local_scenario.cluster import StandinCluster
from local_scenario.history import POD_LIFETIME_MINUTES, workload_fingerprint, write_history
from local_scenario.incidents import ClusterIdentity
from local_scenario.sample_app import WORKLOADS

IDENTITY = ClusterIdentity("demo-project", "local", "standin")


@pytest.fixture
def cluster() -> Iterator[StandinCluster]:
    standin = StandinCluster(ready_delay_seconds=0.0, crash_restart_interval_seconds=0.25).start()
    try:
        standin.seed_sample_app()
        yield standin
    finally:
        standin.stop()


def test_history_is_timeseries_the_features_pipeline_reads_with_the_right_workloads(
    cluster: StandinCluster, tmp_path: Path
) -> None:
    minutes = 2 * POD_LIFETIME_MINUTES
    start = 1_790_000_000.0
    counts = write_history(cluster, IDENTITY, tmp_path, start, minutes)

    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert counts["metric_points"] == len(lines)
    assert (tmp_path / "logs.jsonl").read_text() == ""
    observations = [o for line in lines for o in parse_metric_line(line)]
    expected = {(w.namespace, w.name) for w in WORKLOADS}
    # key: (project, location, cluster, namespace, controller kind, controller name)
    assert {o.key[:3] for o in observations} == {("demo-project", "local", "standin")}
    assert {(o.key[3], o.key[5]) for o in observations} == expected
    assert {o.key[4] for o in observations} == {"Deployment"}
    assert {o.measure for o in observations} >= {"cpu_utilization", "memory_utilization"}
    assert min(o.timestamp for o in observations) >= start
    assert max(o.timestamp for o in observations) < start + minutes * 60
    # pods are replaced every POD_LIFETIME_MINUTES: two generations of pod names per workload
    pods = {(o.key[5], o.pod_name) for o in observations}
    replicas = sum(w.replicas for w in WORKLOADS)
    assert len(pods) == 2 * replicas
    cpu = [o.value for o in observations if o.measure == "cpu_utilization"]
    assert all(0 < v < 0.9 for v in cpu)  # healthy: nothing near the alert threshold
    # the history changes nothing in the live cluster
    assert len(cluster.usage()["pods"]) == replicas


def test_fingerprint_changes_when_a_workload_changes(cluster: StandinCluster) -> None:
    before = workload_fingerprint(cluster)
    cluster.operator("PATCH", "/apis/apps/v1/namespaces/shop/deployments/cart", {"spec": {"replicas": 3}},
                     "application/merge-patch+json")  # fmt: skip
    assert workload_fingerprint(cluster) != before


def test_feature_rows_follow_the_live_faults(cluster: StandinCluster) -> None:
    rows, seen = workload_feature_rows(cluster.usage(), {})
    assert set(rows) == {(w.namespace, w.name) for w in WORKLOADS}
    assert all(row["restart_delta"] == 0 for row in rows.values())
    assert rows[("shop", "checkout")]["cpu_utilization_max"] < 0.9

    checkout = cluster.pods_of("shop", "checkout")[0]
    cart = cluster.pods_of("shop", "cart")[0]
    cluster.inject_cpu_hog(checkout)
    cluster.inject_crash_loop(cart)
    cluster.usage()  # the simulated kubelet notices the crash on its next sync
    time.sleep(0.8)  # a few restart intervals
    rows, _ = workload_feature_rows(cluster.usage(), seen)

    hot = rows[("shop", "checkout")]
    assert hot["cpu_utilization_max"] > 0.95
    assert hot["cpu_utilization_mean"] < hot["cpu_utilization_max"]  # only one of two pods is hot
    assert rows[("shop", "cart")]["restart_delta"] >= 2
    assert all(not math.isnan(v) for row in rows.values() for v in row.values())
