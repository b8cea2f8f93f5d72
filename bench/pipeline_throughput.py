"""Features pipeline throughput on the DirectRunner, against a plain-Python baseline.

Generates a day of history for a few workloads, then measures in the same run:
* baseline: parse every line and fold it into per-workload 1-minute windows in a plain loop
  (the same parser and accumulator code, no Beam);
* the Beam pipeline reading the files and writing features to DuckDB;
* the same with RunInference scoring and the local metric file.
Prints one JSON object. Usage: python bench/pipeline_throughput.py [--minutes 1440] [--workloads 4]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from anomaly_detection_model.artifact import build_artifact, save_artifact
from anomaly_detection_model.feature_store import DuckDBFeatureStore
from anomaly_detection_model.workload_model import train
from dataflow.features_pipeline import run
from dataflow.generate_history import Workload, write_history
from dataflow.log_parser import parse_log_line
from dataflow.metric_parser import parse_metric_line
from dataflow.window_features import WindowAccumulator, feature_row


def baseline(paths: list[Path]) -> tuple[int, int]:
    windows: dict[tuple, WindowAccumulator] = {}
    lines = 0
    for path, parse in zip(paths, (parse_log_line, parse_metric_line), strict=True):
        with path.open() as handle:
            for line in handle:
                lines += 1
                for obs in parse(line):
                    start = obs.timestamp - obs.timestamp % 60
                    windows.setdefault((obs.key, start), WindowAccumulator()).add(obs)
    rows = [feature_row(key, acc, start, start + 60) for (key, start), acc in windows.items()]
    return lines, len(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=int, default=1440)
    parser.add_argument("--workloads", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        workloads = [Workload("shop", f"svc{i}") for i in range(args.workloads)]
        counts = write_history(work / "history", workloads, datetime(2026, 1, 1, tzinfo=UTC), args.minutes)
        files = [work / "history" / "logs.jsonl", work / "history" / "metrics.jsonl"]
        lines = counts["logs"] + counts["metrics"]

        t0 = time.perf_counter()
        _, baseline_rows = baseline(files)
        baseline_s = time.perf_counter() - t0

        common = [f"--log_input={files[0]}", f"--metric_input={files[1]}"]
        t0 = time.perf_counter()
        run([*common, f"--duckdb_path={work / 'features.duckdb'}"])
        beam_s = time.perf_counter() - t0
        features = DuckDBFeatureStore(work / "features.duckdb").read_table("features")

        model = train(features)
        artifact = build_artifact(model, features, {"start": "", "end": ""})
        model_dir = save_artifact(artifact, work / "model")
        t0 = time.perf_counter()
        run(
            [
                *common,
                f"--duckdb_path={work / 'scored.duckdb'}",
                f"--model_dir={model_dir}",
                f"--metric_store_path={work / 'metrics.jsonl'}",
            ]
        )
        scored_s = time.perf_counter() - t0

    print(
        json.dumps(
            {
                "input_lines": lines,
                "feature_rows": len(features),
                "baseline_rows": baseline_rows,
                "baseline_plain_python_s": round(baseline_s, 2),
                "baseline_lines_per_s": round(lines / baseline_s),
                "beam_features_s": round(beam_s, 2),
                "beam_features_lines_per_s": round(lines / beam_s),
                "beam_features_and_scoring_s": round(scored_s, 2),
                "beam_features_and_scoring_lines_per_s": round(lines / scored_s),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
