"""Command-line inputs shared by the report and advice commands: where the tables are, the
time range, and the JSON files with Deployments."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fleet_insight.analysis import RangeError
from fleet_insight.schema import TableNames
from fleet_insight.source import BigQuerySource, DuckDBSource, FleetSource, SourceError


def add_source_arguments(p: argparse.ArgumentParser) -> None:
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--duckdb",
        metavar="FILE",
        action="append",
        help="local DuckDB file with the tables; repeat when they are spread over several files",
    )
    where.add_argument("--bigquery-dataset", metavar="PROJECT.DATASET", help="BigQuery dataset with the tables")
    p.add_argument(
        "--healing-actions-jsonl",
        metavar="FILE",
        help="healing actions as JSON lines (the healer's jsonl: audit sink) instead of a table",
    )
    p.add_argument("--start", required=True, help="ISO 8601 start (UTC if no zone)")
    p.add_argument("--end", required=True, help="ISO 8601 end (UTC if no zone)")
    p.add_argument("--features-table", default="features")
    p.add_argument("--anomaly-scores-table", default="anomaly_scores")
    p.add_argument("--healing-actions-table", default="healing_actions")


def source_from_args(args: argparse.Namespace) -> FleetSource:
    tables = TableNames(args.features_table, args.anomaly_scores_table, args.healing_actions_table)
    if args.bigquery_dataset:
        if args.healing_actions_jsonl:
            raise SourceError("--healing-actions-jsonl works with local files only, not with --bigquery-dataset")
        return BigQuerySource(args.bigquery_dataset, tables)
    if not args.duckdb and not args.healing_actions_jsonl:
        raise SourceError("give --duckdb FILE (and/or --healing-actions-jsonl FILE) or --bigquery-dataset")
    jsonl = {"healing_actions": args.healing_actions_jsonl} if args.healing_actions_jsonl else None
    return DuckDBSource(args.duckdb or (), tables, jsonl=jsonl)


def parse_time(text: str, flag: str) -> datetime:
    """ISO 8601; a value without a zone is taken as UTC."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise RangeError(f"{flag}: not an ISO 8601 time: {text!r} (e.g. 2026-11-01T00:00:00Z)") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def time_range(args: argparse.Namespace) -> tuple[datetime, datetime]:
    return parse_time(args.start, "--start"), parse_time(args.end, "--end")


def load_json(path: str, flag: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SourceError(f"{flag}: file not found: {path}") from exc
    except json.JSONDecodeError as exc:
        raise SourceError(f"{flag}: {path} is not valid JSON: {exc}") from exc


def load_deployments(raw: Any) -> list[dict[str, Any]]:
    """A Deployment, a list of them, or a List/DeploymentList with ``items``."""
    if isinstance(raw, dict) and isinstance(raw.get("items"), list):
        raw = raw["items"]
    elif isinstance(raw, dict):
        raw = [raw]
    if not isinstance(raw, list) or not all(isinstance(d, dict) for d in raw):
        raise SourceError("--deployments: expected a Deployment, a list of Deployments or a List with items")
    return [d for d in raw if d.get("kind", "Deployment") == "Deployment"]
