"""The BigQuery table schemas, read from the one schema source: ``config/bigquery/*.json``.

Terraform creates the BigQuery tables from these files; the local DuckDB stores (features,
anomaly scores, healing actions) create theirs from the same files, so every store agrees.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

# BigQuery type names -> DuckDB column types.
DUCKDB_TYPES = {
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
    """``config/bigquery`` of the source checkout, else of the working directory (an installed
    package, e.g. in an image that copies ``config/`` next to the app)."""
    checkout = Path(__file__).resolve().parents[2] / "config" / "bigquery"
    working = Path.cwd() / "config" / "bigquery"
    return checkout if checkout.is_dir() or not working.is_dir() else working


def load_columns(table: str, schema_dir: Path | None = None) -> tuple[Column, ...]:
    """The columns of ``table`` from ``<schema_dir>/<table>.json``."""
    path = (schema_dir or default_schema_dir()) / f"{table}.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SchemaError(f"schema file for table {table!r} not found: {path}") from exc
    except json.JSONDecodeError as exc:
        raise SchemaError(f"schema file {path.name} is not valid JSON: {exc}") from exc
    if not isinstance(raw, list) or not raw:
        raise SchemaError(f"schema file {path.name} must be a non-empty JSON list of fields")
    columns = []
    for index, field in enumerate(raw):
        if not isinstance(field, dict) or "name" not in field or "type" not in field:
            raise SchemaError(f"schema file {path.name}: field #{index} needs 'name' and 'type'")
        type_name = str(field["type"]).upper()
        if type_name not in DUCKDB_TYPES:
            raise SchemaError(f"schema file {path.name}: field {field['name']!r} has unsupported type {type_name}")
        columns.append(
            Column(
                name=str(field["name"]),
                type=type_name,
                required=str(field.get("mode", "NULLABLE")).upper() == "REQUIRED",
                description=str(field.get("description", "")),
            )
        )
    return tuple(columns)
