"""A loopback stand-in for the two BigQuery REST calls the report makes.

``POST /bigquery/v2/projects/{project}/queries`` (jobs.query) and
``GET /bigquery/v2/projects/{project}/datasets/{dataset}/tables/{table}`` (tables.get),
answered in BigQuery's JSON wire format from a DuckDB file. The SQL text is run as the
client sent it, with only BigQuery's identifier quoting and parameter markers translated,
and the two BigQuery functions DuckDB lacks defined as macros.
"""

from __future__ import annotations

import json
import re
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb

_QUERIES = re.compile(r"^/bigquery/v2/projects/([^/]+)/queries$")
_TABLE = re.compile(r"^/bigquery/v2/projects/([^/]+)/datasets/([^/]+)/tables/([^/?]+)")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _bq_type(duck_type: str) -> str:
    t = duck_type.upper()
    if "TIMESTAMP" in t:
        return "TIMESTAMP"
    if "INT" in t:
        return "INTEGER"
    if t in ("DOUBLE", "FLOAT", "REAL") or t.startswith("DECIMAL"):
        return "FLOAT"
    if t == "BOOLEAN":
        return "BOOLEAN"
    return "STRING"


def _cell(value: Any, bq_type: str) -> Any:
    if value is None:
        return None
    if bq_type == "TIMESTAMP":
        return str((value - _EPOCH) // timedelta(microseconds=1))
    if bq_type == "BOOLEAN":
        return "true" if value else "false"
    return str(value)


def _param(p: dict[str, Any]) -> Any:
    kind, raw = p["parameterType"]["type"], p["parameterValue"]["value"]
    if kind == "TIMESTAMP":
        return datetime.fromisoformat(raw)
    if kind == "INT64":
        return int(raw)
    if kind == "FLOAT64":
        return float(raw)
    if kind == "BOOL":
        return raw == "true"
    return raw


class BigQueryDouble:
    def __init__(self, db: Path, project: str, dataset: str) -> None:
        self.db, self.project, self.dataset = db, project, dataset
        self.requests: list[dict[str, Any]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> BigQueryDouble:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _connect(self) -> duckdb.DuckDBPyConnection:
        conn = duckdb.connect(str(self.db), read_only=True)
        conn.execute("SET TimeZone = 'UTC'")
        conn.execute("CREATE OR REPLACE TEMP MACRO unix_seconds(ts) AS CAST(epoch(ts) AS BIGINT)")
        conn.execute("CREATE OR REPLACE TEMP MACRO div(a, b) AS (a // b)")
        return conn

    def run_query(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        prefix = f"`{self.project}.{self.dataset}."
        sql = re.sub(re.escape(prefix) + r"([A-Za-z0-9_]+)`", r'"\1"', body["query"])
        sql = re.sub(r"@([A-Za-z_][A-Za-z0-9_]*)", r"$\1", sql)
        params = {p["name"]: _param(p) for p in body.get("queryParameters", [])}
        with self._connect() as conn:
            try:
                cursor = conn.execute(sql, params)
            except duckdb.Error as exc:
                return 400, {"error": {"code": 400, "message": str(exc), "status": "INVALID_ARGUMENT"}}
            desc = cursor.description or []
            types = [_bq_type(str(d[1])) for d in desc]
            rows = [{"f": [{"v": _cell(v, t)} for v, t in zip(row, types, strict=True)]} for row in cursor.fetchall()]
        fields = [{"name": d[0], "type": t, "mode": "NULLABLE"} for d, t in zip(desc, types, strict=True)]
        return 200, {
            "kind": "bigquery#queryResponse",
            "schema": {"fields": fields},
            "jobReference": {"projectId": self.project, "jobId": f"job_{len(self.requests)}", "location": "EU"},
            "totalRows": str(len(rows)),
            "rows": rows,
            "jobComplete": True,
            "cacheHit": False,
        }

    def get_table(self, table: str) -> tuple[int, dict[str, Any]]:
        with self._connect() as conn:
            cols = conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
                "ORDER BY ordinal_position",
                [table],
            ).fetchall()
        if not cols:
            message = f"Not found: Table {self.project}:{self.dataset}.{table}"
            return 404, {"error": {"code": 404, "message": message, "status": "NOT_FOUND"}}
        return 200, {
            "kind": "bigquery#table",
            "id": f"{self.project}:{self.dataset}.{table}",
            "tableReference": {"projectId": self.project, "datasetId": self.dataset, "tableId": table},
            "schema": {"fields": [{"name": n, "type": _bq_type(t), "mode": "NULLABLE"} for n, t in cols]},
            "type": "TABLE",
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                double.requests.append({"method": "POST", "path": self.path, "body": body})
                match = _QUERIES.match(self.path.split("?")[0])
                if not match or match.group(1) != double.project:
                    self._reply(404, {"error": {"code": 404, "message": f"no route {self.path}"}})
                    return
                self._reply(*double.run_query(body))

            def do_GET(self) -> None:
                double.requests.append({"method": "GET", "path": self.path})
                match = _TABLE.match(self.path)
                if not match or match.group(1) != double.project or match.group(2) != double.dataset:
                    self._reply(404, {"error": {"code": 404, "message": f"Not found: {self.path}"}})
                    return
                self._reply(*double.get_table(match.group(3)))

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler
