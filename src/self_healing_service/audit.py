"""Every decision and outcome as a row of the healing-actions table.

BigQuery in the cloud (``project.dataset.table``), DuckDB locally (``duckdb:PATH``), or
JSON lines (``jsonl:PATH``). The schema is config/bigquery/healing_actions.json. A
failed audit write is logged loudly but never turns a handled incident into a retry:
the ledger already holds the decision.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

log = logging.getLogger(__name__)

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "config" / "bigquery" / "healing_actions.json"
COLUMNS = (
    "decided_at",
    "incident_id",
    "incident_state",
    "incident_kind",
    "policy_name",
    "project_id",
    "location",
    "cluster",
    "namespace",
    "target_kind",
    "target_name",
    "pod",
    "action",
    "outcome",
    "reason",
    "detail",
    "dry_run",
    "step",
    "action_duration_ms",
    "time_to_recover_s",
    "healed",
    "evidence_uri",
    "actor",
    "healer_instance",
)
_DUCK_TYPES = {
    "decided_at": "TIMESTAMP",
    "dry_run": "BOOLEAN",
    "healed": "BOOLEAN",
    "step": "INTEGER",
    "action_duration_ms": "DOUBLE",
    "time_to_recover_s": "DOUBLE",
}


class AuditSink(Protocol):
    def write(self, row: dict[str, Any]) -> None: ...


def to_row(record: dict[str, Any]) -> dict[str, Any]:
    row = {column: record.get(column) for column in COLUMNS}
    decided = record.get("decided_at")
    if isinstance(decided, int | float):
        row["decided_at"] = datetime.fromtimestamp(decided, tz=UTC).isoformat()
    return row


class NullAudit:
    def write(self, row: dict[str, Any]) -> None:
        return None


class JsonlAudit:
    def __init__(self, path: str) -> None:
        self._path = Path(path)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def write(self, row: dict[str, Any]) -> None:
        with self._lock, self._path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(to_row(row), default=str) + "\n")


class DuckDBAudit:
    def __init__(self, path: str) -> None:
        import duckdb

        self._path = path
        self._lock = threading.Lock()
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        columns = ", ".join(f"{c} {_DUCK_TYPES.get(c, 'VARCHAR')}" for c in COLUMNS)
        with duckdb.connect(path) as con:
            con.execute(f"CREATE TABLE IF NOT EXISTS healing_actions ({columns})")

    def write(self, row: dict[str, Any]) -> None:
        import duckdb

        values = to_row(row)
        with self._lock, duckdb.connect(self._path) as con:
            con.execute(
                f"INSERT INTO healing_actions ({', '.join(COLUMNS)}) VALUES ({', '.join('?' for _ in COLUMNS)})",
                [values[c] for c in COLUMNS],
            )


class BigQueryAudit:
    def __init__(self, table: str) -> None:
        from google.cloud import bigquery

        self._client = bigquery.Client()
        self._table = table

    def write(self, row: dict[str, Any]) -> None:
        errors = self._client.insert_rows_json(self._table, [to_row(row)])
        if errors:
            raise RuntimeError(f"BigQuery insert into {self._table} failed: {errors}")


class SafeAudit:
    """Wraps a sink so a failing audit write is logged, never raised."""

    def __init__(self, sink: AuditSink) -> None:
        self._sink = sink

    def write(self, row: dict[str, Any]) -> None:
        try:
            self._sink.write(row)
        except Exception as exc:
            log.error("audit write failed: %s", exc, extra={"fields": {"audit_row": to_row(row)}})


def open_audit(spec: str) -> AuditSink:
    if not spec:
        return NullAudit()
    if spec.startswith("duckdb:"):
        return SafeAudit(DuckDBAudit(spec.removeprefix("duckdb:")))
    if spec.startswith("jsonl:"):
        return SafeAudit(JsonlAudit(spec.removeprefix("jsonl:")))
    return SafeAudit(BigQueryAudit(spec))
