"""The three tables this package reads, with their columns from the one schema source.

``config/bigquery/{features,anomaly_scores,healing_actions}.json`` (BigQuery JSON
schema format) define the tables in BigQuery and in the local DuckDB file alike.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from healing_contract.table_schema import DUCKDB_TYPES, SchemaError, load_columns

__all__ = ["DUCKDB_TYPES", "REQUIRED_COLUMNS", "SchemaError", "TableNames", "load_columns"]

_TABLE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,1023}$")


@dataclass(frozen=True)
class TableNames:
    """Names of the tables in the dataset (BigQuery) or the database file (DuckDB)."""

    features: str = "features"
    anomaly_scores: str = "anomaly_scores"
    healing_actions: str = "healing_actions"

    def __post_init__(self) -> None:
        for logical, physical in self.as_dict().items():
            if not _TABLE_NAME.match(physical):
                raise SchemaError(
                    f"table name for {logical} must be letters, digits, '_' or '-' (1-1024), got {physical!r}"
                )

    def as_dict(self) -> dict[str, str]:
        return {
            "features": self.features,
            "anomaly_scores": self.anomaly_scores,
            "healing_actions": self.healing_actions,
        }


# Columns the queries of this package use; a table without them is rejected up front.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "features": (
        "window_end",
        "cluster",
        "namespace",
        "controller_kind",
        "controller_name",
        "cpu_utilization_mean",
        "cpu_utilization_max",
        "memory_utilization_mean",
        "memory_utilization_max",
        "restart_delta",
        "oom_killed_count",
        "pod_count",
    ),
    "anomaly_scores": ("window_end", "cluster", "namespace", "controller_name", "score", "threshold", "is_anomaly"),
    "healing_actions": (
        "decided_at",
        "incident_id",
        "incident_kind",
        "cluster",
        "namespace",
        "target_kind",
        "target_name",
        "pod",
        "action",
        "outcome",
        "time_to_recover_s",
        "healed",
    ),
}


def duckdb_create_table_sql(logical: str, physical: str, schema_dir: Path | None = None) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for DuckDB with the columns of the JSON schema of ``logical``."""
    cols = ",\n  ".join(
        f'"{c.name}" {DUCKDB_TYPES[c.type]}{" NOT NULL" if c.required else ""}'
        for c in load_columns(logical, schema_dir)
    )
    return f"CREATE TABLE IF NOT EXISTS {quote_duckdb(physical)} (\n  {cols}\n)"


def quote_duckdb(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
