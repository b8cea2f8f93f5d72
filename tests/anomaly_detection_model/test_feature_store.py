from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from anomaly_detection_model.feature_store import (
    READ_FEATURES_SQL,
    BigQueryFeatureStore,
    DuckDBFeatureStore,
    open_store,
    render_read_sql,
)
from anomaly_detection_model.synthetic_features import healthy_feature_rows
from anomaly_detection_model.table_schema import (
    SchemaError,
    bigquery_schema_string,
    column_names,
    default_schema_dir,
    load_columns,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _rows(minutes: int = 30) -> list[dict]:
    frame = healthy_feature_rows(["shop/web"], T0, minutes, seed=2)
    for column in ("window_start", "window_end"):
        frame[column] = frame[column].map(lambda t: t.isoformat())
    return frame.to_dict("records")


def test_duckdb_tables_have_exactly_the_columns_of_the_json_schemas(tmp_path: Path) -> None:
    store = DuckDBFeatureStore(tmp_path / "f.duckdb")
    store.ensure_tables(["features", "anomaly_scores"])
    import duckdb

    with duckdb.connect(str(tmp_path / "f.duckdb"), read_only=True) as con:
        for table in ("features", "anomaly_scores"):
            described = con.execute(f'DESCRIBE "{table}"').fetchall()
            schema = json.loads((default_schema_dir() / f"{table}.json").read_text())
            assert [d[0] for d in described] == [f["name"] for f in schema]
            required = {f["name"] for f in schema if f["mode"] == "REQUIRED"}
            assert {d[0] for d in described if d[2] == "NO"} == required


def test_read_features_returns_the_half_open_window_in_order(tmp_path: Path) -> None:
    store = DuckDBFeatureStore(tmp_path / "f.duckdb")
    assert store.append("features", _rows(30)) == 30
    frame = store.read_features(datetime(2026, 1, 1, 0, 10, tzinfo=UTC), datetime(2026, 1, 1, 0, 20, tzinfo=UTC))
    assert len(frame) == 10
    assert frame["window_start"].iloc[0] == pd.Timestamp("2026-01-01T00:10:00Z")
    assert frame["window_start"].is_monotonic_increasing
    assert list(frame.columns) == list(column_names("features"))


def test_append_rejects_unknown_columns_and_read_rejects_bad_windows(tmp_path: Path) -> None:
    store = DuckDBFeatureStore(tmp_path / "f.duckdb")
    with pytest.raises(ValueError, match="unknown columns"):
        store.append("features", [_rows(1)[0] | {"colour": "red"}])
    store.append("features", _rows(1))
    with pytest.raises(ValueError, match="timezone-aware"):
        store.read_features(datetime(2026, 1, 1), datetime(2026, 1, 2))
    with pytest.raises(ValueError, match="after start"):
        store.read_features(T0, T0)


def test_both_stores_run_the_same_sql_text() -> None:
    duck = render_read_sql('"features"')
    bigquery = render_read_sql("`acme-prod.healer.features`")
    assert duck.replace('"features"', "T") == bigquery.replace("`acme-prod.healer.features`", "T")
    assert READ_FEATURES_SQL.count("?") == 2


def test_store_uris() -> None:
    assert isinstance(open_store("bq://acme-prod.healer.features"), BigQueryFeatureStore)
    duck = open_store("duckdb://local/features.duckdb#features")
    assert isinstance(duck, DuckDBFeatureStore) and duck.table == "features"
    with pytest.raises(ValueError, match=r"project\.dataset\.table"):
        BigQueryFeatureStore("features")
    with pytest.raises(ValueError, match="invalid DuckDB table"):
        DuckDBFeatureStore(Path("x.duckdb"), table="features; DROP TABLE x")


def test_schema_files_load_and_bad_ones_are_explained(tmp_path: Path) -> None:
    assert bigquery_schema_string("anomaly_scores").startswith("window_end:TIMESTAMP,")
    assert load_columns("features")[0].required
    with pytest.raises(SchemaError, match="not found"):
        load_columns("features", tmp_path)
    (tmp_path / "features.json").write_text('[{"name": "x", "type": "GEOGRAPHY"}]')
    with pytest.raises(SchemaError, match="unsupported type"):
        load_columns("features", tmp_path)


def test_writing_the_same_windows_again_replaces_them(tmp_path: Path) -> None:
    from anomaly_detection_model.feature_store import ROW_KEYS

    store = DuckDBFeatureStore(tmp_path / "f.duckdb")
    rows = _rows(10)
    store.append("features", rows, replace_on=ROW_KEYS["features"])
    changed = [r | {"error_log_count": 99} for r in rows[:3]]
    store.append("features", changed, replace_on=ROW_KEYS["features"])
    frame = store.read_table("features")
    assert len(frame) == 10
    assert sorted(frame["error_log_count"])[-3:] == [99, 99, 99]
    store.append("features", rows[:2])  # plain append keeps duplicates
    assert len(store.read_table("features")) == 12
    with pytest.raises(ValueError, match="unknown columns"):
        store.append("features", rows[:1], replace_on=["colour"])
