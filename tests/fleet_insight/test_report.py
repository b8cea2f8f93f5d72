"""The HTML report: sections, self-containment, escaping, and clear command-line errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from fleet_insight.analysis import ReportOptions, build_report
from fleet_insight.report import SECTIONS, main, render_html
from fleet_insight.source import DuckDBSource
from fleet_insight.synthetic import SyntheticHistory, WorkloadSpec, generate_history, write_duckdb, write_specs

from .conftest import START

HOSTILE_NS = "<script>alert('ns')</script>"
HOSTILE_NAME = 'x"><img src=x onerror=alert(1)>'


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.urls: list[str] = []
        self.scripts_with_src = 0
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(values["id"] or "")
        for key in ("src", "href", "action", "data"):
            if values.get(key):
                self.urls.append(values[key] or "")
        if tag == "script" and "src" in values:
            self.scripts_with_src += 1


def _render(db: Path, history: SyntheticHistory, **kwargs: object) -> str:
    source = DuckDBSource(db)
    try:
        options = ReportOptions(history.start, history.end, deployments=history.deployments, **kwargs)  # type: ignore[arg-type]
        return render_html(build_report(source, options))
    finally:
        source.close()


def test_report_has_every_section_and_is_self_contained(fleet_db: Path, history: SyntheticHistory) -> None:
    html = _render(fleet_db, history)
    parsed = _Collector()
    parsed.feed(html)
    assert {sid for sid, _ in SECTIONS} <= parsed.ids
    assert parsed.scripts_with_src == 0
    assert "link" not in parsed.tags and "iframe" not in parsed.tags
    assert all(u.startswith("#") for u in parsed.urls), parsed.urls
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "") and "https://" not in html
    assert html.count("<svg") >= 4
    assert "kubectl -n shop patch deployment cart --type strategic -p" in html
    assert "checkout" in html and "crash_loop" in html


def test_names_from_the_cluster_are_escaped(tmp_path: Path) -> None:
    fleet = (
        WorkloadSpec(HOSTILE_NS, HOSTILE_NAME, "flapping"),
        WorkloadSpec("shop", "frontend", "steady"),
    )
    history = generate_history(START, hours=3, fleet=fleet)
    db = tmp_path / "hostile.duckdb"
    write_duckdb(db, history)
    html = _render(db, history)
    assert HOSTILE_NS not in html and HOSTILE_NAME not in html
    assert "&lt;script&gt;alert(&#x27;ns&#x27;)&lt;/script&gt;" in html
    assert "onerror=alert(1)&gt;" in html
    parsed = _Collector()
    parsed.feed(html)
    assert "img" not in parsed.tags
    assert parsed.tags.count("script") == 1  # only the report's own check script


def test_empty_range_renders_with_no_scores(fleet_db: Path, history: SyntheticHistory) -> None:
    later = history.end + timedelta(days=30)
    source = DuckDBSource(fleet_db)
    try:
        report = build_report(source, ReportOptions(later, later + timedelta(hours=1)))
    finally:
        source.close()
    assert report.fleet_score is None and report.workloads == [] and report.incidents == []
    assert any("no feature rows" in n for n in report.notes)
    html = render_html(report)
    assert "n/a" in html


def _cli(tmp_path: Path, db: Path, *extra: str) -> list[str]:
    return ["--duckdb", str(db), "--out", str(tmp_path / "r.html"), *extra]


def test_cli_writes_the_report(
    tmp_path: Path, fleet_db: Path, history: SyntheticHistory, capsys: pytest.CaptureFixture[str]
) -> None:
    deployments, nodes = write_specs(tmp_path / "specs", history)
    code = main(
        _cli(
            tmp_path,
            fleet_db,
            "--start",
            history.start.isoformat(),
            "--end",
            history.end.isoformat(),
            "--deployments",
            str(deployments),
            "--node-conditions",
            str(nodes),
        )
    )
    assert code == 0
    assert "5 workloads" in capsys.readouterr().out
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "DiskPressure" in html and "patch deployment" in html


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-11-02T00:00:00Z", "2026-11-01T00:00:00Z", "must be after start"),
        ("2026-11-01T00:00:00Z", "2026-11-01T00:00:00Z", "must be after start"),
        ("yesterday", "2026-11-01T00:00:00Z", "--start: not an ISO 8601 time"),
        ("2020-01-01T00:00:00Z", "2026-11-01T00:00:00Z", "longer than"),
    ],
)
def test_cli_rejects_bad_time_ranges(
    tmp_path: Path, fleet_db: Path, start: str, end: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_cli(tmp_path, fleet_db, "--start", start, "--end", end)) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_cli_names_missing_tables_and_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.duckdb"
    with duckdb.connect(str(empty)) as conn:
        conn.execute("CREATE TABLE features (window_end TIMESTAMPTZ, namespace VARCHAR)")
    times = ["--start", "2026-11-01T00:00:00Z", "--end", "2026-11-02T00:00:00Z"]
    assert main(_cli(tmp_path, empty, *times)) == 1
    err = capsys.readouterr().err
    assert "table 'healing_actions' (healing_actions) not found" in err
    assert "table 'features' lacks column(s)" in err and "controller_name" in err
    assert main(_cli(tmp_path, tmp_path / "nope.duckdb", *times)) == 1
    assert "DuckDB file not found" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert main(_cli(tmp_path, empty, *times, "--deployments", str(bad))) == 1
    assert "--deployments" in capsys.readouterr().err
    bad.write_text(json.dumps([{"node": "n1", "condition": "Ready", "status": "sure"}]), encoding="utf-8")
    assert main(_cli(tmp_path, empty, *times, "--node-conditions", str(bad))) == 1
    assert "status must be one of" in capsys.readouterr().err


def test_module_entry_point_runs(tmp_path: Path, fleet_db: Path, history: SyntheticHistory) -> None:
    out = tmp_path / "m.html"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "fleet_insight.report",
            "--duckdb",
            str(fleet_db),
            "--start",
            history.start.isoformat(),
            "--end",
            history.end.isoformat(),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"wrote .*m\.html \(5 workloads", result.stdout)
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_tables_spread_over_two_files_with_zoneless_timestamps(
    tmp_path: Path, history: SyntheticHistory, fleet_db: Path
) -> None:
    """Features in one file, healing actions in another (TIMESTAMP without zone, VARCHAR columns),
    as a local healer audit file may hold them."""
    features_only = tmp_path / "features.duckdb"
    only = SyntheticHistory(
        history.start, history.end, features=history.features, anomaly_scores=history.anomaly_scores
    )
    write_duckdb(features_only, only)
    with duckdb.connect(str(features_only)) as conn:
        conn.execute("DROP TABLE healing_actions")
    audit = tmp_path / "audit.duckdb"
    columns = list(history.healing_actions[0])
    types = {"decided_at": "TIMESTAMP", "healed": "BOOLEAN", "dry_run": "BOOLEAN", "step": "INTEGER"}
    types |= {"time_to_recover_s": "DOUBLE", "action_duration_ms": "DOUBLE"}
    with duckdb.connect(str(audit)) as conn:
        ddl = ", ".join(f"{c} {types.get(c, 'VARCHAR')}" for c in columns)
        conn.execute(f"CREATE TABLE healing_actions ({ddl})")
        conn.executemany(
            f"INSERT INTO healing_actions VALUES ({', '.join('?' for _ in columns)})",
            [
                [r[c].replace(tzinfo=None) if c == "decided_at" else r[c] for c in columns]
                for r in history.healing_actions
            ],
        )
    split = DuckDBSource([features_only, audit])
    single = DuckDBSource(fleet_db)
    try:
        options = ReportOptions(history.start, history.end)
        got, expected = build_report(split, options), build_report(single, options)
    finally:
        split.close()
        single.close()
    assert "features.duckdb + audit.duckdb" in got.source
    assert [(i.incident_id, i.started, i.healed) for i in got.incidents] == [
        (i.incident_id, i.started, i.healed) for i in expected.incidents
    ]
    assert [(w.label(), w.health.score) for w in got.workloads] == [
        (w.label(), w.health.score) for w in expected.workloads
    ]


def test_cli_rejects_bad_bucket_and_unwritable_output(
    tmp_path: Path, fleet_db: Path, history: SyntheticHistory, capsys: pytest.CaptureFixture[str]
) -> None:
    times = ["--start", history.start.isoformat(), "--end", history.end.isoformat()]
    assert main(_cli(tmp_path, fleet_db, *times, "--bucket-minutes", "0")) == 1
    assert "at least 60 seconds" in capsys.readouterr().err
    assert main(_cli(tmp_path, fleet_db, *times, "--recur-hours", "-1")) == 1
    assert "recur_hours" in capsys.readouterr().err
    unwritable = ["--duckdb", str(fleet_db), "--out", str(tmp_path / "no" / "such" / "dir" / "r.html"), *times]
    assert main(unwritable) == 1
    assert "--out: cannot write" in capsys.readouterr().err


def test_table_names_are_validated(tmp_path: Path, fleet_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    times = ["--start", "2026-11-01T00:00:00Z", "--end", "2026-11-02T00:00:00Z"]
    assert main(_cli(tmp_path, fleet_db, *times, "--features-table", "features` WHERE 1=1 --")) == 1
    assert "table name for features" in capsys.readouterr().err


def _write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    """As the healer's JSON-lines audit sink writes them (json.dumps with default=str)."""
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, default=str) + "\n")


def test_healing_actions_from_json_lines(tmp_path: Path, history: SyntheticHistory, fleet_db: Path) -> None:
    features_only = tmp_path / "features.duckdb"
    write_duckdb(
        features_only,
        SyntheticHistory(history.start, history.end, features=history.features, anomaly_scores=history.anomaly_scores),
    )
    with duckdb.connect(str(features_only)) as conn:
        conn.execute("DROP TABLE healing_actions")
    audit = tmp_path / "audit.jsonl"
    _write_jsonl(audit, history.healing_actions)
    mixed = DuckDBSource(features_only, jsonl={"healing_actions": audit})
    single = DuckDBSource(fleet_db)
    try:
        options = ReportOptions(history.start, history.end)
        got, expected = build_report(mixed, options), build_report(single, options)
    finally:
        mixed.close()
        single.close()
    assert "audit.jsonl" in got.source
    assert [(i.incident_id, i.started, i.healed, i.time_to_recover_s) for i in got.incidents] == [
        (i.incident_id, i.started, i.healed, i.time_to_recover_s) for i in expected.incidents
    ]
    assert got.fleet_score == expected.fleet_score


def test_healing_only_report_from_json_lines(
    tmp_path: Path, history: SyntheticHistory, capsys: pytest.CaptureFixture[str]
) -> None:
    audit = tmp_path / "audit.jsonl"
    _write_jsonl(audit, history.healing_actions)
    args = [
        "--healing-actions-jsonl",
        str(audit),
        "--start",
        history.start.isoformat(),
        "--end",
        history.end.isoformat(),
        "--out",
        str(tmp_path / "h.html"),
    ]
    assert main(args) == 1
    assert "table 'features' (features) not found" in capsys.readouterr().err
    assert main([*args, "--allow-missing", "features"]) == 0
    html = (tmp_path / "h.html").read_text(encoding="utf-8")
    assert "features table not available" in html
    assert "checkout" in html and "crash_loop" in html
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    assert main([*args, "--allow-missing", "features", "--healing-actions-jsonl", str(empty)]) == 0
    assert main(["--start", "2026-11-01", "--end", "2026-11-02", "--out", str(tmp_path / "x.html")]) == 1
    assert "give --duckdb FILE" in capsys.readouterr().err


def test_write_report_for_the_local_demo(tmp_path: Path, history: SyntheticHistory) -> None:
    from fleet_insight.report import write_report

    audit = tmp_path / "audit.jsonl"
    _write_jsonl(audit, history.healing_actions)
    out = tmp_path / "fleet.html"
    report = write_report(
        out,
        history.start,
        history.end,
        healing_actions_jsonl=audit,
        node_conditions=history.node_conditions,
        allow_missing=["features"],
    )
    assert len(report.incidents) == len({r["incident_id"] for r in history.healing_actions})
    assert {n.name for n in report.nodes} == {"gke-demo-pool-1-a1b2", "gke-demo-pool-1-c3d4"}
    assert 'id="resource-advice"' in out.read_text(encoding="utf-8")


def test_features_only_store_needs_allow_missing(
    tmp_path: Path, history: SyntheticHistory, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "pipeline.duckdb"
    write_duckdb(db, SyntheticHistory(history.start, history.end, features=history.features))
    with duckdb.connect(str(db)) as conn:
        conn.execute("DROP TABLE healing_actions")
        conn.execute("DROP TABLE anomaly_scores")
    args = _cli(tmp_path, db, "--start", history.start.isoformat(), "--end", history.end.isoformat())
    assert main(args) == 1
    assert "table 'healing_actions' (healing_actions) not found" in capsys.readouterr().err
    assert main([*args, "--allow-missing", "healing_actions"]) == 0
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "healing_actions table not available" in html and "anomaly_scores table not available" in html
    assert "shop/checkout" in html or "checkout" in html
    # with neither features nor healing actions there is nothing to report, whatever is allowed
    empty = tmp_path / "nothing.duckdb"
    with duckdb.connect(str(empty)) as conn:
        conn.execute("CREATE TABLE unrelated (x INTEGER)")
    both = ["--allow-missing", "features", "--allow-missing", "healing_actions"]
    times = ["--start", history.start.isoformat(), "--end", history.end.isoformat()]
    assert main([*_cli(tmp_path, empty, *times), *both]) == 1
    err = capsys.readouterr().err
    assert "'features' (features) not found" in err and "'healing_actions' (healing_actions) not found" in err
