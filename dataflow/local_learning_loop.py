"""The whole learning loop on one machine, offline: history -> features -> kfp training -> model.

1. generate realistic healthy history (LogEntry + TimeSeries JSON lines);
2. run the features pipeline on the DirectRunner into a DuckDB file;
3. run the training pipeline with kfp.local (extract -> train -> evaluate -> gate -> register);
4. print (and write to ``OUT/summary.json``) where the current model is, for
   ``features_pipeline --model_dir``.

    python -m dataflow.local_learning_loop --out out/learning --minutes 1560 --holdout-minutes 120
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from anomaly_detection_model.model_registry import LocalRegistry
from anomaly_detection_model.score_metric import parse_rfc3339, rfc3339
from dataflow.generate_history import parse_workloads, write_history


def learn(
    out: Path, workloads: str, start: datetime, minutes: int, holdout_minutes: int, seed: int = 1
) -> dict[str, Any]:
    if holdout_minutes < 30 or minutes - holdout_minutes < 1440:
        raise ValueError("need at least a day of training history and 30 held-back minutes")
    from anomaly_detection_model.training_pipeline import run_local
    from dataflow.features_pipeline import run

    out = out.resolve()
    counts = write_history(out / "history", parse_workloads(workloads), start, minutes, seed)
    duckdb_path = out / "local.duckdb"
    run(
        [
            f"--log_input={out / 'history' / 'logs.jsonl'}",
            f"--metric_input={out / 'history' / 'metrics.jsonl'}",
            f"--duckdb_path={duckdb_path}",
            f"--dead_letter_path={out / 'dead_letters' / 'letters'}",
        ]
    )
    train_end = start + timedelta(minutes=minutes - holdout_minutes)
    registry = out / "registry.json"
    run_local(
        {
            "store_uri": f"duckdb://{duckdb_path}",
            "train_start": rfc3339(start),
            "train_end": rfc3339(train_end),
            "holdout_end": rfc3339(start + timedelta(minutes=minutes)),
            "model_root": str(out / "models"),
            "registry_uri": f"local:{registry}",
        },
        out / "kfp",
    )
    current = LocalRegistry(registry).current()
    return {
        "history": counts,
        "duckdb": str(duckdb_path),
        "registry": str(registry),
        "model_dir": current.artifact_uri if current else "",
        "version": current.version if current else "",
        "evaluation": current.evaluation if current else {},
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the learning loop locally and print the model directory.")
    parser.add_argument("--out", type=Path, required=True, help="working directory")
    parser.add_argument("--workloads", default="shop/frontend,shop/cart,shop/checkout", help="NAMESPACE/NAME,...")
    parser.add_argument("--minutes", type=int, default=1560, help="minutes of history (training + held back)")
    parser.add_argument("--holdout-minutes", type=int, default=120, help="the last minutes, held back")
    parser.add_argument("--start", default="", help="RFC 3339 start (default: history ends at the current minute)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    try:
        if args.start:
            start = parse_rfc3339(args.start)
        else:
            start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=args.minutes)
        summary = learn(args.out, args.workloads, start, args.minutes, args.holdout_minutes, args.seed)
    except ValueError as exc:
        parser.error(str(exc))
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    print(json.dumps(summary, indent=2))
    return 0 if summary["model_dir"] else 1


if __name__ == "__main__":
    sys.exit(main())
