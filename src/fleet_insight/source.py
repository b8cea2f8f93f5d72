"""One small query interface over the fleet tables, for DuckDB (local file) and BigQuery.

Both implementations run the *same SQL text*: table names are written as
``{features}``, ``{anomaly_scores}``, ``{healing_actions}`` and filled in with the
backend's identifier quoting; query parameters are written BigQuery style as
``@name``. The SQL sticks to the common subset of both dialects; the DuckDB side
defines the two BigQuery functions it lacks (``UNIX_SECONDS``, ``DIV``) as macros.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from fleet_insight.schema import DUCKDB_TYPES, REQUIRED_COLUMNS, TableNames, load_columns, quote_duckdb

Param = datetime | int | float | str
Row = dict[str, Any]

_PARAM = re.compile(r"@([A-Za-z_][A-Za-z0-9_]*)")
_DATASET = re.compile(r"^[A-Za-z0-9_.:-]+\.[A-Za-z0-9_]+$")


class SourceError(RuntimeError):
    """The data source cannot answer: missing file, table or column; the message says which."""


class FleetSource(Protocol):
    """What the report and the health/advice code need from a data store."""

    tables: TableNames

    def query(self, sql: str, params: Mapping[str, Param]) -> list[Row]:
        """Run ``sql`` (with ``{table}`` placeholders and ``@param`` parameters)."""
        ...

    def missing(self) -> dict[str, list[str]]:
        """Logical table -> missing required columns; ``["*"]`` when the table itself is missing."""
        ...

    def describe(self) -> str:
        """A short human-readable name of the source for the report header."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...


def require(source: FleetSource, tables: Sequence[str]) -> None:
    """Raise :class:`SourceError` naming every missing table/column among ``tables``."""
    problems = []
    missing = source.missing()
    physical = source.tables.as_dict()
    for logical in tables:
        cols = missing.get(logical)
        if not cols:
            continue
        if cols == ["*"]:
            problems.append(f"table {physical[logical]!r} ({logical}) not found")
        else:
            problems.append(f"table {physical[logical]!r} lacks column(s) {', '.join(cols)}")
    if problems:
        raise SourceError(f"{source.describe()}: " + "; ".join(problems))


# --------------------------------------------------------------------------- DuckDB

_DUCKDB_MACROS = (
    "CREATE OR REPLACE TEMP MACRO unix_seconds(ts) AS CAST(epoch(ts) AS BIGINT)",
    "CREATE OR REPLACE TEMP MACRO div(a, b) AS (a // b)",
)


class DuckDBSource:
    """Local DuckDB files (opened read-only) and JSON-lines files.

    The first file is the main database; further files are attached, so tables may live in
    different files (e.g. the feature store's file and the healer's audit file). Each
    logical table is read from the first file that has it. ``jsonl`` maps a logical table
    to a JSON-lines file (e.g. the healer's ``jsonl:`` audit sink), read through a
    temporary view typed by the table's JSON schema; it takes precedence over the files.
    """

    def __init__(
        self,
        path: str | Path | Sequence[str | Path] = (),
        tables: TableNames | None = None,
        jsonl: Mapping[str, str | Path] | None = None,
        schema_dir: Path | None = None,
    ) -> None:
        import duckdb

        paths = [Path(path)] if isinstance(path, str | Path) else [Path(p) for p in path]
        json_files = {k: Path(v) for k, v in (jsonl or {}).items()}
        if not paths and not json_files:
            raise SourceError("at least one DuckDB or JSON-lines file is needed")
        self.paths = paths
        self.json_files = json_files
        self.tables = tables or TableNames()
        for p in [*paths, *json_files.values()]:
            if not p.is_file():
                raise SourceError(f"{'JSON-lines' if p in json_files.values() else 'DuckDB'} file not found: {p}")
        unknown = set(json_files) - set(self.tables.as_dict())
        if unknown:
            raise SourceError(f"unknown table(s) for JSON-lines input: {', '.join(sorted(unknown))}")
        try:
            self._conn = duckdb.connect(str(paths[0]) if paths else ":memory:", read_only=bool(paths))
            self._catalogs = [self._conn.execute("SELECT current_database()").fetchone()[0]]  # type: ignore[index]
            for index, p in enumerate(paths[1:], start=1):
                alias = f"extra{index}"
                self._conn.execute(f"ATTACH {_sql_string(str(p))} AS {alias} (READ_ONLY)")
                self._catalogs.append(alias)
            self._conn.execute("SET TimeZone = 'UTC'")
            for macro in _DUCKDB_MACROS:
                self._conn.execute(macro)
            for logical, file in json_files.items():
                self._conn.execute(_jsonl_view(logical, self.tables.as_dict()[logical], file, schema_dir))
        except duckdb.Error as exc:
            names = ", ".join(map(str, [*paths, *json_files.values()]))
            raise SourceError(f"cannot open {names}: {exc}") from exc
        self._located = self._locate()

    def describe(self) -> str:
        return "DuckDB " + " + ".join(p.name for p in [*self.paths, *self.json_files.values()])

    def close(self) -> None:
        self._conn.close()

    def _columns(self) -> dict[tuple[str, str], set[str]]:
        rows = self._conn.execute(
            "SELECT table_catalog, table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'"
        ).fetchall()
        present: dict[tuple[str, str], set[str]] = {}
        for catalog, table, column in rows:
            present.setdefault((catalog, table), set()).add(column)
        return present

    def _locate(self) -> dict[str, str]:
        """logical table -> the catalog (file) it is read from."""
        present = self._columns()
        located = {}
        for logical, physical in self.tables.as_dict().items():
            if logical in self.json_files:
                located[logical] = "temp"
                continue
            located[logical] = next((c for c in self._catalogs if (c, physical) in present), self._catalogs[0])
        return located

    def render(self, sql: str) -> str:
        names = {
            k: f"{quote_duckdb(self._located[k])}.main.{quote_duckdb(v)}" for k, v in self.tables.as_dict().items()
        }
        return _PARAM.sub(r"$\1", sql.format(**names))

    def query(self, sql: str, params: Mapping[str, Param]) -> list[Row]:
        import duckdb

        text = self.render(sql)
        used = set(_PARAM.findall(sql))
        try:
            cursor = self._conn.execute(text, {k: v for k, v in params.items() if k in used})
            names = [d[0] for d in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        except duckdb.Error as exc:
            raise SourceError(f"query failed on {self.describe()}: {exc}") from exc

    def missing(self) -> dict[str, list[str]]:
        present = self._columns()
        by_table = {
            physical: present.get((self._located[logical], physical), set())
            for logical, physical in self.tables.as_dict().items()
            if (self._located[logical], physical) in present
        }
        return _missing(self.tables, by_table)


def _jsonl_view(logical: str, physical: str, file: Path, schema_dir: Path | None) -> str:
    columns = ", ".join(
        f"{_sql_string(c.name)}: {_sql_string(DUCKDB_TYPES[c.type])}" for c in load_columns(logical, schema_dir)
    )
    return (
        f"CREATE OR REPLACE TEMP VIEW {quote_duckdb(physical)} AS SELECT * FROM read_json("
        f"{_sql_string(str(file))}, format = 'newline_delimited', columns = {{{columns}}})"
    )


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --------------------------------------------------------------------------- BigQuery


class BigQuerySource:
    """A BigQuery dataset ``project.dataset``; ``google-cloud-bigquery`` is imported lazily."""

    def __init__(self, dataset: str, tables: TableNames | None = None, client: Any = None) -> None:
        if not _DATASET.match(dataset):
            raise SourceError(f"BigQuery dataset must look like project.dataset, got {dataset!r}")
        self.dataset = dataset
        self.tables = tables or TableNames()
        if client is None:
            from google.cloud import bigquery

            client = bigquery.Client(project=dataset.rsplit(".", 1)[0])
        self._client = client

    def describe(self) -> str:
        return f"BigQuery {self.dataset}"

    def close(self) -> None:
        close = getattr(self._client, "close", None)
        if callable(close):
            close()

    def render(self, sql: str) -> str:
        names = {k: f"`{self.dataset}.{v}`" for k, v in self.tables.as_dict().items()}
        return sql.format(**names)

    def query(self, sql: str, params: Mapping[str, Param]) -> list[Row]:
        from google.api_core import exceptions as gexc
        from google.cloud import bigquery

        used = set(_PARAM.findall(sql))
        query_params = [_bq_param(bigquery, k, v) for k, v in params.items() if k in used]
        config = bigquery.QueryJobConfig(query_parameters=query_params)
        try:
            result = self._client.query_and_wait(self.render(sql), job_config=config)
        except gexc.GoogleAPICallError as exc:
            raise SourceError(f"query failed on {self.describe()}: {exc}") from exc
        return [dict(row.items()) for row in result]

    def missing(self) -> dict[str, list[str]]:
        from google.api_core import exceptions as gexc

        present: dict[str, set[str]] = {}
        for physical in self.tables.as_dict().values():
            try:
                table = self._client.get_table(f"{self.dataset}.{physical}")
            except gexc.NotFound:
                continue
            present[physical] = {f.name for f in table.schema}
        return _missing(self.tables, present)


def _bq_param(bigquery: Any, name: str, value: Param) -> Any:
    if isinstance(value, datetime):
        return bigquery.ScalarQueryParameter(name, "TIMESTAMP", value)
    if isinstance(value, bool):
        return bigquery.ScalarQueryParameter(name, "BOOL", value)
    if isinstance(value, int):
        return bigquery.ScalarQueryParameter(name, "INT64", value)
    if isinstance(value, float):
        return bigquery.ScalarQueryParameter(name, "FLOAT64", value)
    return bigquery.ScalarQueryParameter(name, "STRING", value)


def _missing(tables: TableNames, present: Mapping[str, set[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for logical, physical in tables.as_dict().items():
        if physical not in present:
            out[logical] = ["*"]
            continue
        lacking = [c for c in REQUIRED_COLUMNS[logical] if c not in present[physical]]
        if lacking:
            out[logical] = lacking
    return out
