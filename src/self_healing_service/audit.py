"""Every decision and outcome as a row of the healing-actions table.

BigQuery in the cloud (``project.dataset.table``), DuckDB locally (``duckdb:PATH``), or
JSON lines (``jsonl:PATH``). The schema is config/bigquery/healing_actions.json. A
failed audit write is logged loudly but never turns a handled incident into a retry:
the ledger already holds the decision.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from healing_contract.table_schema import DUCKDB_TYPES, Column, load_columns

log = logging.getLogger(__name__)

TABLE = "healing_actions"  # config/bigquery/healing_actions.json is the one schema source


@functools.cache
def columns() -> tuple[Column, ...]:
    return load_columns(TABLE)


class AuditSink(Protocol):
    def write(self, row: dict[str, Any]) -> None: ...


def to_row(record: dict[str, Any]) -> dict[str, Any]:
    row = {column.name: record.get(column.name) for column in columns()}
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
        definition = ", ".join(f"{c.name} {DUCKDB_TYPES[c.type]}" for c in columns())
        with duckdb.connect(path) as con:
            con.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} ({definition})")

    def write(self, row: dict[str, Any]) -> None:
        import duckdb

        values = to_row(row)
        with self._lock, duckdb.connect(self._path) as con:
            con.execute(
                f"INSERT INTO {TABLE} ({', '.join(values)}) VALUES ({', '.join('?' for _ in values)})",
                list(values.values()),
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
