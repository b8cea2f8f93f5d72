"""The feature and score table schemas, read from the one schema source.

``config/bigquery/features.json`` and ``config/bigquery/anomaly_scores.json``
(BigQuery JSON schema format) define the tables. Terraform creates the
BigQuery tables from them, and the local DuckDB store creates its tables from
the same files, so both stores always agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

FEATURES_TABLE = "features"
SCORES_TABLE = "anomaly_scores"

# BigQuery legacy type names -> DuckDB column types.
_DUCKDB_TYPES = {
    "STRING": "VARCHAR",
    "FLOAT": "DOUBLE",
    "FLOAT64": "DOUBLE",
    "INTEGER": "BIGINT",
    "INT64": "BIGINT",
    "BOOLEAN": "BOOLEAN",
    "BOOL": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMPTZ",
}


class SchemaError(ValueError):
    """A schema file is missing or malformed; the message says which and why."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # BigQuery type name
    required: bool
    description: str = ""


def default_schema_dir() -> Path:
    """``config/bigquery`` of the source checkout this package belongs to, else of the working
    directory (an installed package, e.g. in an image that copies ``config/`` next to the app)."""
    checkout = Path(__file__).resolve().parents[2] / "config" / "bigquery"
    working = Path.cwd() / "config" / "bigquery"
    return checkout if checkout.is_dir() or not working.is_dir() else working


def load_columns(table: str, schema_dir: Path | None = None) -> tuple[Column, ...]:
    """The columns of ``table`` (``features`` or ``anomaly_scores``)."""
    path = (schema_dir or default_schema_dir()) / f"{table}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SchemaError(f"schema file for table {table!r} not found at {path}") from exc
    except json.JSONDecodeError as exc:
        raise SchemaError(f"schema file {path} is not valid JSON: {exc}") from exc
    if not isinstance(raw, list) or not raw:
        raise SchemaError(f"schema file {path} must be a non-empty JSON list of fields")
    columns = []
    for index, field in enumerate(raw):
        if not isinstance(field, dict) or "name" not in field or "type" not in field:
            raise SchemaError(f"schema file {path}: field #{index} needs 'name' and 'type'")
        type_name = str(field["type"]).upper()
        if type_name not in _DUCKDB_TYPES:
            raise SchemaError(f"schema file {path}: field {field['name']!r} has unsupported type {type_name}")
        columns.append(
            Column(
                name=str(field["name"]),
                type=type_name,
                required=str(field.get("mode", "NULLABLE")).upper() == "REQUIRED",
                description=str(field.get("description", "")),
            )
        )
    return tuple(columns)


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
