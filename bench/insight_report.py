"""How long the fleet health report takes on a larger synthetic fleet, with baselines.

    python bench/insight_report.py [--workloads 40] [--days 7]

Prints the time to build and render the report next to two baselines measured in the
same run on the same file: one full scan of the features table in DuckDB (the floor for
any report) and fetching every feature row into Python (what a naive report would do).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb

from fleet_insight.analysis import ReportOptions, build_report
from fleet_insight.nodes import parse_node_conditions
from fleet_insight.report import render_html
from fleet_insight.source import DuckDBSource
from fleet_insight.synthetic import DEFAULT_FLEET, WorkloadSpec, generate_history, write_duckdb


def _fleet(count: int) -> tuple[WorkloadSpec, ...]:
    out = []
    for i in range(count):
        base = DEFAULT_FLEET[i % len(DEFAULT_FLEET)]
        out.append(
            WorkloadSpec(
                f"{base.namespace}-{i // 10}",
                f"{base.name}-{i}",
                base.behaviour,
                base.cpu_request,
                base.cpu_limit,
                base.memory_request,
                base.memory_limit,
                base.container,
                base.replicas,
            )
        )
    return tuple(out)


def _best(fn: object, runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workloads", type=int, default=40)
    parser.add_argument("--days", type=float, default=7.0)
    args = parser.parse_args()
    end = datetime(2026, 11, 8, tzinfo=UTC)
    start = end - timedelta(days=args.days)
    t0 = time.perf_counter()
    history = generate_history(start, hours=args.days * 24, fleet=_fleet(args.workloads))
    generate_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "fleet.duckdb"
        t0 = time.perf_counter()
        write_duckdb(db, history)
        write_s = time.perf_counter() - t0
        rows = len(history.features)
        options = ReportOptions(
            start,
            history.end,
            deployments=history.deployments,
            node_conditions=parse_node_conditions(history.node_conditions),
        )
        source = DuckDBSource(db)
        report = build_report(source, options)
        build_s = _best(lambda: build_report(source, options))
        render_s = _best(lambda: render_html(report))
        html = render_html(report)
        source.close()
        with duckdb.connect(str(db), read_only=True) as conn:
            scan_s = _best(
                lambda: conn.execute(
                    "SELECT COUNT(*), AVG(cpu_utilization_mean), SUM(restart_delta) FROM features"
                ).fetchall()
            )
            fetch_s = _best(lambda: conn.execute("SELECT * FROM features").fetchall(), runs=1)
    print(
        f"fleet: {args.workloads} workloads, {args.days:g} days, {rows} feature rows, "
        f"{len(history.healing_actions)} healing rows"
    )
    print(f"generate history          {generate_s:8.2f} s")
    print(f"write DuckDB              {write_s:8.2f} s")
    print(
        f"build report (best of 3)  {build_s:8.3f} s   ({len(report.workloads)} workloads, "
        f"{len(report.incidents)} incidents, {len(report.advice)} Deployments advised)"
    )
    print(f"render HTML (best of 3)   {render_s:8.3f} s   ({len(html) / 1024:.0f} KiB)")
    print(f"baseline: full scan       {scan_s:8.3f} s")
    print(f"baseline: fetch all rows  {fetch_s:8.3f} s")


if __name__ == "__main__":
    main()
