"""Training data access: one small interface, a BigQuery and a DuckDB implementation.

Both run the same SQL text (``read_features.sql``); only the quoting of the
table name differs. The DuckDB store also creates its tables from the JSON
schemas and appends rows, which is how the local pipeline writes its outputs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from anomaly_detection_model.features import KEY_COLUMNS
from anomaly_detection_model.table_schema import (
    FEATURES_TABLE,
    SCORES_TABLE,
    column_names,
    duckdb_create_table_sql,
    load_columns,
)

READ_FEATURES_SQL = (Path(__file__).with_name("read_features.sql")).read_text(encoding="utf-8")
# the columns that identify a row of each table (a workload's window; for scores, also the model)
ROW_KEYS = {
    FEATURES_TABLE: ("window_start", *KEY_COLUMNS),
    SCORES_TABLE: ("window_end", *KEY_COLUMNS, "model_version"),
}
_DUCK_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BQ_NAME = re.compile(r"^[A-Za-z0-9_.-]+\.[A-Za-z0-9_]+\.[A-Za-z0-9_]+$")


class FeatureStore(Protocol):
    def read_features(self, start: datetime, end: datetime) -> pd.DataFrame:
        """Feature rows with ``start <= window_start < end``, in a stable order."""
        ...


def render_read_sql(quoted_table: str) -> str:
    return READ_FEATURES_SQL.format(table=quoted_table)


def _check_window(start: datetime, end: datetime) -> None:
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware datetimes")
    if end <= start:
        raise ValueError(f"end ({end.isoformat()}) must be after start ({start.isoformat()})")


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
    for column in ("window_start", "window_end"):
        if column in frame:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame.reset_index(drop=True)


class DuckDBFeatureStore:
    """The local store: a DuckDB file with the ``features`` and ``anomaly_scores`` tables."""

    def __init__(self, path: Path, table: str = FEATURES_TABLE, schema_dir: Path | None = None) -> None:
        if not _DUCK_NAME.match(table):
            raise ValueError(f"invalid DuckDB table name {table!r}")
        self.path = path
        self.table = table
        self.schema_dir = schema_dir

    def _connect(self, read_only: bool = False) -> Any:
        import duckdb

        if read_only and not self.path.exists():
            raise FileNotFoundError(f"DuckDB feature store {self.path} does not exist")
        return duckdb.connect(str(self.path), read_only=read_only)

    def ensure_tables(self, tables: Sequence[str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            for table in tables:
                con.execute(duckdb_create_table_sql(table, self.schema_dir))

    def append(self, table: str, rows: Iterable[Mapping[str, Any]], replace_on: Sequence[str] = ()) -> int:
        """Insert rows (dicts keyed by column name) into ``table``; unknown keys are an error.

        ``replace_on``: columns identifying a row; existing rows with the same values are
        deleted first, so writing the same windows again replaces them instead of duplicating.
        """
        names = column_names(table, self.schema_dir)
        records = list(rows)
        if not records:
            self.ensure_tables([table])
            return 0
        for i, row in enumerate(records):
            unknown = set(row) - set(names)
            if unknown:
                raise ValueError(f"row #{i} for table {table!r} has unknown columns {sorted(unknown)}")
        frame = pd.DataFrame([{n: row.get(n) for n in names} for row in records], columns=list(names))
        for column in load_columns(table, self.schema_dir):
            if column.type == "TIMESTAMP":
                frame[column.name] = pd.to_datetime(frame[column.name], utc=True)
        self.ensure_tables([table])
        with self._connect() as con:
            con.register("incoming", frame)
            quoted = ", ".join(f'"{n}"' for n in names)
            if replace_on:
                unknown_keys = set(replace_on) - set(names)
                if unknown_keys:
                    raise ValueError(f"replace_on names unknown columns {sorted(unknown_keys)}")
                same = " AND ".join(f'"{table}"."{k}" IS NOT DISTINCT FROM incoming."{k}"' for k in replace_on)
                con.execute(f'DELETE FROM "{table}" WHERE EXISTS (SELECT 1 FROM incoming WHERE {same})')
            con.execute(f'INSERT INTO "{table}" ({quoted}) SELECT {quoted} FROM incoming')
            con.unregister("incoming")
        return len(records)

    def read_features(self, start: datetime, end: datetime) -> pd.DataFrame:
        _check_window(start, end)
        with self._connect(read_only=True) as con:
            frame = con.execute(render_read_sql(f'"{self.table}"'), [start, end]).df()
        return _normalise(frame)

    def read_table(self, table: str) -> pd.DataFrame:
        if not _DUCK_NAME.match(table):
            raise ValueError(f"invalid DuckDB table name {table!r}")
        with self._connect(read_only=True) as con:
            return _normalise(con.execute(f'SELECT * FROM "{table}"').df())


class BigQueryFeatureStore:
    """The cloud store: ``project.dataset.features`` in BigQuery (client created lazily)."""

    def __init__(self, table: str, project: str | None = None, client: Any = None) -> None:
        if not _BQ_NAME.match(table):
            raise ValueError(f"BigQuery table must be 'project.dataset.table', got {table!r}")
        self.table = table
        self.project = project
        self._client = client

    def _get_client(self) -> Any:
        if self._client is None:
            from google.cloud import bigquery

            self._client = bigquery.Client(project=self.project)
        return self._client

    def read_features(self, start: datetime, end: datetime) -> pd.DataFrame:
        _check_window(start, end)
        from google.cloud import bigquery

        config = bigquery.QueryJobConfig(
            query_parameters=[
                bigquery.ScalarQueryParameter(None, "TIMESTAMP", start),
                bigquery.ScalarQueryParameter(None, "TIMESTAMP", end),
            ]
        )
        job = self._get_client().query(render_read_sql(f"`{self.table}`"), job_config=config)
        result = job.result()
        # rows as plain values: to_dataframe() would need the db-dtypes package
        names = [field.name for field in result.schema]
        return _normalise(pd.DataFrame([list(row.values()) for row in result], columns=names))


def open_store(uri: str, schema_dir: Path | None = None) -> FeatureStore:
    """``bq://project.dataset.table`` -> BigQuery; ``duckdb://path[#table]`` or a path -> DuckDB."""
    if uri.startswith("bq://"):
        table = uri.removeprefix("bq://")
        return BigQueryFeatureStore(table, project=table.split(".")[0])
    path_text = uri.removeprefix("duckdb://")
    path_text, _, table = path_text.partition("#")
    if not path_text:
        raise ValueError(f"feature store URI {uri!r} names no DuckDB file")
    return DuckDBFeatureStore(Path(path_text), table=table or FEATURES_TABLE, schema_dir=schema_dir)
