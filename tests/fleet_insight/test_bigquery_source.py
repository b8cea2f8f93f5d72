"""BigQuerySource through the real google-cloud-bigquery client against a loopback BigQuery double."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from fleet_insight.analysis import ReportOptions, build_report
from fleet_insight.source import BigQuerySource, DuckDBSource, SourceError
from fleet_insight.synthetic import SyntheticHistory

from .bigquery_double import BigQueryDouble

PROJECT, DATASET = "demo-project", "healer"


def _client(endpoint: str) -> bigquery.Client:
    return bigquery.Client(
        project=PROJECT, credentials=AnonymousCredentials(), client_options=ClientOptions(api_endpoint=endpoint)
    )


def test_same_report_from_bigquery_and_duckdb(fleet_db: Path, history: SyntheticHistory) -> None:
    options = ReportOptions(history.start, history.end, deployments=history.deployments)
    local = DuckDBSource(fleet_db)
    try:
        expected = build_report(local, options)
    finally:
        local.close()
    with BigQueryDouble(fleet_db, PROJECT, DATASET) as double:
        source = BigQuerySource(f"{PROJECT}.{DATASET}", client=_client(double.endpoint))
        got = build_report(source, options)
    queries = [r["body"] for r in double.requests if r["method"] == "POST"]
    assert queries, "no query reached the BigQuery double"
    for body in queries:
        assert f"`{PROJECT}.{DATASET}." in body["query"]
        assert body["useLegacySql"] is False
        types = {p["name"]: p["parameterType"]["type"] for p in body["queryParameters"]}
        assert types["start"] == "TIMESTAMP" and types["end"] == "TIMESTAMP"
    assert got.source == f"BigQuery {PROJECT}.{DATASET}"
    assert got.fleet_score == expected.fleet_score
    assert [(w.label(), w.health.score) for w in got.workloads] == [
        (w.label(), w.health.score) for w in expected.workloads
    ]
    assert [i.incident_id for i in got.incidents] == [i.incident_id for i in expected.incidents]
    assert [i.time_to_recover_s for i in got.incidents] == [i.time_to_recover_s for i in expected.incidents]
    assert [a.containers for a in got.advice] == [a.containers for a in expected.advice]


def test_missing_bigquery_table_is_named(tmp_path: Path) -> None:
    db = tmp_path / "partial.duckdb"
    with duckdb.connect(str(db)) as conn:
        conn.execute("CREATE TABLE features (window_end TIMESTAMPTZ)")
    with BigQueryDouble(db, PROJECT, DATASET) as double:
        source = BigQuerySource(f"{PROJECT}.{DATASET}", client=_client(double.endpoint))
        missing = source.missing()
    assert missing["healing_actions"] == ["*"]
    assert "controller_name" in missing["features"]


def test_dataset_name_is_validated() -> None:
    with pytest.raises(SourceError, match=r"project\.dataset"):
        BigQuerySource("no-dataset", client=object())
    with pytest.raises(SourceError, match=r"project\.dataset"):
        BigQuerySource("p.d; DROP TABLE x", client=object())
