from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dataflow.generate_history import Workload, generate, main, parse_incident, write_history
from dataflow.log_parser import parse_log_entry
from dataflow.metric_parser import parse_time_series
from dataflow.observations import CPU, ERROR_LOG, MEMORY, OOM_KILLED, RESTART_DELTA

START = datetime(2026, 1, 1, tzinfo=UTC)
SHOP = [Workload("shop", "frontend"), Workload("shop", "cart")]


def _observations(records):
    for kind, record in records:
        yield from (parse_log_entry(record) if kind == "logs" else parse_time_series(record))


def test_every_generated_record_parses_and_names_the_right_workloads() -> None:
    observations = list(_observations(generate(SHOP, START, 30, seed=4)))
    assert {o.key[4:] for o in observations} == {("Deployment", "frontend"), ("Deployment", "cart")}
    measures = Counter(o.measure for o in observations)
    assert measures[CPU] == measures[MEMORY] == measures[RESTART_DELTA] == 30 * 2 * 2
    assert measures[ERROR_LOG] > 0


def test_same_seed_same_history() -> None:
    assert list(generate(SHOP, START, 5, seed=9)) == list(generate(SHOP, START, 5, seed=9))
    assert list(generate(SHOP, START, 5, seed=9)) != list(generate(SHOP, START, 5, seed=10))


def test_incidents_distort_only_their_workload_and_minutes() -> None:
    incident = parse_incident("shop/cart:memory_leak:10:5")
    observations = list(_observations(generate(SHOP, START, 20, seed=2, incidents=[incident])))
    leak_window = [
        o
        for o in observations
        if o.key[5] == "cart"
        and o.measure == MEMORY
        and o.timestamp >= START.timestamp() + 14 * 60
        and o.timestamp < START.timestamp() + 15 * 60
    ]
    assert leak_window and min(o.value for o in leak_window) > 0.95
    assert any(o.measure == OOM_KILLED for o in observations)
    assert all(o.value < 0.8 for o in observations if o.key[5] == "frontend" and o.measure == MEMORY)


@pytest.mark.parametrize(
    "text", ["shop/cart:meltdown:1:2", "cart:crash_loop:1:2", "shop/cart:crash_loop:x:2", "shop/cart:crash_loop:1:0"]
)
def test_bad_incidents_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="incident"):
        parse_incident(text)


def test_cli_writes_both_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["--out", str(tmp_path), "--minutes", "3", "--workloads", "shop/web", "--start", "2026-01-01T00:00:00Z"])
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["metrics"] == 3 * 2 * 3
    assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == summary["metrics"]
    assert len((tmp_path / "logs.jsonl").read_text().splitlines()) == summary["logs"]


def test_cli_rejects_bad_workloads(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        main(["--out", str(tmp_path), "--workloads", "no-namespace"])


def test_write_history_counts_lines(tmp_path: Path) -> None:
    counts = write_history(tmp_path, SHOP[:1], START, 2)
    assert counts["metrics"] == 2 * 2 * 3
