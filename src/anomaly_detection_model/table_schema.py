"""The feature and score table schemas, read from the one schema source.

``config/bigquery/features.json`` and ``config/bigquery/anomaly_scores.json``
(BigQuery JSON schema format) define the tables. Terraform creates the
BigQuery tables from them, and the local DuckDB store creates its tables from
the same files, so both stores always agree.
"""

from __future__ import annotations

from pathlib import Path

from healing_contract.table_schema import DUCKDB_TYPES as _DUCKDB_TYPES
from healing_contract.table_schema import Column, SchemaError, default_schema_dir, load_columns

FEATURES_TABLE = "features"
SCORES_TABLE = "anomaly_scores"

__all__ = ["FEATURES_TABLE", "SCORES_TABLE", "Column", "SchemaError", "default_schema_dir", "load_columns"]


def column_names(table: str, schema_dir: Path | None = None) -> tuple[str, ...]:
    return tuple(c.name for c in load_columns(table, schema_dir))


def duckdb_create_table_sql(table: str, schema_dir: Path | None = None) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for DuckDB with the columns of the JSON schema."""
    cols = ",\n  ".join(
        f'"{c.name}" {_DUCKDB_TYPES[c.type]}{" NOT NULL" if c.required else ""}'
        for c in load_columns(table, schema_dir)
    )
    return f'CREATE TABLE IF NOT EXISTS "{table}" (\n  {cols}\n)'


def bigquery_schema_string(table: str, schema_dir: Path | None = None) -> str:
    """The ``name:TYPE,...`` form Beam's ``WriteToBigQuery(schema=...)`` accepts."""
    return ",".join(f"{c.name}:{c.type}" for c in load_columns(table, schema_dir))
