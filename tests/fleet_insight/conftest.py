from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from fleet_insight.synthetic import SyntheticHistory, generate_history, write_duckdb

START = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def history() -> SyntheticHistory:
    return generate_history(START, hours=24)


@pytest.fixture(scope="session")
def fleet_db(tmp_path_factory: pytest.TempPathFactory, history: SyntheticHistory) -> Path:
    path = tmp_path_factory.mktemp("fleet") / "fleet.duckdb"
    write_duckdb(path, history)
    return path
