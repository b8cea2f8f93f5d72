"""BigQueryFeatureStore against a loopback stand-in of the BigQuery v2 REST API.

The stand-in executes the SQL text it receives with DuckDB, binding the positional query
parameters from the request exactly as BigQuery would, so this checks that the one SQL text
and the parameters the real google-cloud-bigquery client sends work together.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import duckdb
import pandas as pd
import pytest
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from anomaly_detection_model.feature_store import BigQueryFeatureStore, DuckDBFeatureStore
from anomaly_detection_model.synthetic_features import healthy_feature_rows
from anomaly_detection_model.table_schema import load_columns

TABLE = "acme-prod.healer.features"
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class FakeBigQuery:
    def __init__(self, duckdb_path: Path) -> None:
        self.duckdb_path = duckdb_path
        self.jobs: dict[str, dict[str, Any]] = {}
        self.requests: list[str] = []
        self.results: dict[str, tuple[list[dict[str, Any]], list[list[Any]]]] = {}

    def run_query(self, job_id: str, query: dict[str, Any]) -> None:
        assert query["useLegacySql"] is False
        assert query.get("parameterMode") in (None, "POSITIONAL")
        params = []
        for p in query["queryParameters"]:
            assert "name" not in p, "positional parameters carry no name"
            assert p["parameterType"]["type"] == "TIMESTAMP"
            params.append(p["parameterValue"]["value"])
        sql = query["query"].replace(f"`{TABLE}`", '"features"')
        with duckdb.connect(str(self.duckdb_path), read_only=True) as con:
            cursor = con.execute(sql, [pd.Timestamp(v) for v in params])
            names = [d[0] for d in cursor.description]
            rows = cursor.fetchall()
        types = {c.name: c.type for c in load_columns("features")}
        fields = [{"name": n, "type": types[n], "mode": "NULLABLE"} for n in names]
        self.results[job_id] = (fields, [list(r) for r in rows])

    def rows_json(self, job_id: str, int64_timestamps: bool) -> dict[str, Any]:
        fields, rows = self.results[job_id]

        def cell(value: Any, kind: str) -> Any:
            if value is None:
                return None
            if kind == "TIMESTAMP":
                micros = int(pd.Timestamp(value).timestamp() * 1_000_000)
                return str(micros) if int64_timestamps else f"{micros / 1e6:.6E}"
            return str(value)

        return {
            "kind": "bigquery#getQueryResultsResponse",
            "jobReference": self.jobs[job_id]["jobReference"],
            "jobComplete": True,
            "totalRows": str(len(rows)),
            "schema": {"fields": fields},
            "rows": [{"f": [{"v": cell(v, f["type"])} for v, f in zip(r, fields, strict=True)]} for r in rows],
        }


def _handler(state: FakeBigQuery) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, body: dict[str, Any], status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if not urlparse(self.path).path.endswith("/jobs"):
                self._reply({"error": {"code": 404, "message": self.path}}, 404)
                return
            job_id = body.get("jobReference", {}).get("jobId") or f"job{len(state.jobs)}"
            job = {
                "kind": "bigquery#job",
                "id": f"acme-prod:EU.{job_id}",
                "jobReference": {"projectId": "acme-prod", "jobId": job_id, "location": "EU"},
                "configuration": body["configuration"],
                "status": {"state": "DONE"},
                "statistics": {"creationTime": "1767225600000", "query": {"statementType": "SELECT"}},
            }
            state.jobs[job_id] = job
            state.run_query(job_id, body["configuration"]["query"])
            self._reply(job)

        def do_GET(self) -> None:
            url = urlparse(self.path)
            parts = url.path.split("/")
            query = parse_qs(url.query)
            state.requests.append(self.path)
            if "queries" in parts:
                int64 = query.get("formatOptions.useInt64Timestamp", ["false"])[0].lower() == "true"
                answer = state.rows_json(parts[-1], int64)
                if query.get("maxResults") == ["0"]:
                    del answer["rows"]  # as the API: status and schema only
                self._reply(answer)
            elif "jobs" in parts:
                self._reply(state.jobs[parts[-1]])
            else:
                self._reply({"error": {"code": 404, "message": self.path}}, 404)

    return Handler


@pytest.fixture()
def fake_bigquery(tmp_path: Path) -> Iterator[tuple[FakeBigQuery, str]]:
    frame = healthy_feature_rows(["shop/web"], T0, 30, seed=2)
    for column in ("window_start", "window_end"):
        frame[column] = frame[column].map(lambda t: t.isoformat())
    DuckDBFeatureStore(tmp_path / "bq.duckdb").append("features", frame.to_dict("records"))
    state = FakeBigQuery(tmp_path / "bq.duckdb")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_bigquery_store_reads_the_same_window_as_duckdb(fake_bigquery, tmp_path: Path) -> None:
    state, endpoint = fake_bigquery
    client = bigquery.Client(
        project="acme-prod", credentials=AnonymousCredentials(), client_options={"api_endpoint": endpoint}
    )
    start, end = datetime(2026, 1, 1, 0, 5, tzinfo=UTC), datetime(2026, 1, 1, 0, 15, tzinfo=UTC)
    from_bigquery = BigQueryFeatureStore(TABLE, client=client).read_features(start, end)
    from_duckdb = DuckDBFeatureStore(tmp_path / "bq.duckdb").read_features(start, end)
    assert len(from_bigquery) == 10
    assert list(from_bigquery.columns) == list(from_duckdb.columns)
    pd.testing.assert_series_equal(from_bigquery["window_start"], from_duckdb["window_start"], check_dtype=False)
    pd.testing.assert_series_equal(
        from_bigquery["cpu_utilization_mean"].astype(float), from_duckdb["cpu_utilization_mean"], check_dtype=False
    )
    assert any("formatOptions.useInt64Timestamp=True" in r for r in state.requests)
    [job] = state.jobs.values()
    assert f"FROM `{TABLE}`" in job["configuration"]["query"]["query"]
