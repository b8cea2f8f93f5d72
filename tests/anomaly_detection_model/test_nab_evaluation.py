"""The NAB-style evaluation command on a small generated corpus, and its input errors."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from anomaly_detection_model.evaluation.corpus import load_corpus
from anomaly_detection_model.evaluation.nab import main as evaluation_main
from anomaly_detection_model.evaluation.nab_scoring import WindowSpan, prepare_file, probation_length, window_spans
from anomaly_detection_model.evaluation.report import leave_one_file_out
from anomaly_detection_model.evaluation.synthetic_corpus import make_corpus, write_corpus
from anomaly_detection_model.streaming.synthetic import AnomalyKind, make_series

START = datetime(2024, 3, 1)
ROWS = 1500


def _stamp(row: int) -> str:
    return (START + timedelta(minutes=5 * row)).strftime("%Y-%m-%d %H:%M:%S")


def _write_corpus(folder: Path) -> None:
    labels: dict[str, dict[str, list[object]]] = {}
    cases = [
        ("spike.csv", AnomalyKind.SPIKE, 1000, 1),
        ("shift.csv", AnomalyKind.LEVEL_SHIFT, 1200, 2),
        ("variance.csv", AnomalyKind.VARIANCE_CHANGE, 900, 3),
        ("clean.csv", None, None, 4),
    ]
    for name, kind, start, seed in cases:
        series = make_series(ROWS, seed=seed, kind=kind, anomaly_start=start, daily_amplitude=4.0)
        with (folder / name).open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["timestamp", "value"])
            writer.writerows((_stamp(i), f"{v:.4f}") for i, v in enumerate(series.values))
        if start is None:
            labels[name] = {"anomaly_windows": [], "anomaly_points": []}
        else:
            window = [_stamp(start - 40) + ".000000", _stamp(start + 40) + ".000000"]
            labels[name] = {"anomaly_windows": [window], "anomaly_points": [_stamp(start)]}
    (folder / "labels.json").write_text(json.dumps(labels))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "anomaly_detection_model.evaluation.nab", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _summary_row(stdout: str, detector: str) -> list[str]:
    rows = [line.split() for line in stdout.splitlines() if line.startswith(detector + " ")]
    assert rows, f"no summary row for {detector}"
    return rows[-1]


def test_report_compares_the_detector_with_both_baselines(tmp_path: Path) -> None:
    _write_corpus(tmp_path)

    result = _run("--data", str(tmp_path))

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Corpus: 4 files, 6000 rows, 3 scored anomaly windows" in out
    for name in ("spike.csv", "shift.csv", "variance.csv", "clean.csv"):
        assert name in out
    assert "leave one file out" in out
    streaming = _summary_row(out, "streaming")
    static = _summary_row(out, "static_threshold")
    forest = _summary_row(out, "isolation_forest")
    # columns: detector, NAB std, held-out, low FP, low FN, hits, misses, FP, ...
    assert streaming[5:7] == ["3", "0"]
    assert float(streaming[1]) > float(static[1])
    assert float(streaming[1]) > float(forest[1])
    assert float(streaming[1]) > 80.0


def test_detector_subset_and_summary_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write_corpus(tmp_path)
    assert evaluation_main(["--data", str(tmp_path), "--detectors", "static_threshold", "--no-per-file"]) == 0
    out = capsys.readouterr().out
    assert "per file" not in out
    assert _summary_row(out, "static_threshold")
    assert "isolation_forest" not in out


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("missing", "does not exist"),
        ("no_labels", "has no labels.json"),
        ("bad_json", "labels.json is not valid JSON"),
        ("bad_window", "has a bad timestamp"),
        ("bad_csv", "line 3: value 'oops'"),
    ],
)
def test_malformed_corpus_is_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setup: str, expected: str
) -> None:
    folder = tmp_path / "corpus"
    if setup != "missing":
        folder.mkdir()
        (folder / "a.csv").write_text("timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,2\n")
    if setup == "bad_json":
        (folder / "labels.json").write_text("{not json")
    if setup == "bad_window":
        (folder / "labels.json").write_text(json.dumps({"a.csv": {"anomaly_windows": [["soon", "later"]]}}))
    if setup == "bad_csv":
        (folder / "labels.json").write_text("{}")
        (folder / "a.csv").write_text("timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,oops\n")

    assert evaluation_main(["--data", str(folder)]) == 2
    assert expected in capsys.readouterr().err


def test_held_out_threshold_is_not_the_in_sample_one() -> None:
    # Two 20-row files (probation 3) with one window each; each file's detection sits at a score
    # that only the other file's best threshold would miss or take.
    first = prepare_file("a.csv", 20, [WindowSpan(10, 14)])
    second = prepare_file("b.csv", 20, [WindowSpan(10, 14)])
    scores_a = [0.0] * 20
    scores_a[10] = 0.9
    scores_b = [0.0] * 20
    scores_b[10], scores_b[5] = 0.5, 0.95
    # Alone, b's best threshold is 0.5 (hit plus one FP: 1 - 0.11); a's is 0.9.
    # Held out: a is scored at b's best threshold 0.5 -> hit (1.0); b at a's best 0.9 -> FP and miss.
    held_out = leave_one_file_out([first, second], [scores_a, scores_b])
    expected_raw = 1.0 + (-1.0 - 0.11)
    assert held_out == pytest.approx(100.0 * (expected_raw + 2.0) / 4.0)


def test_generated_corpus_round_trips_through_the_loader(tmp_path: Path) -> None:
    corpus = make_corpus(files=8, rows=1500, seed=5)
    write_corpus(tmp_path, corpus)
    loaded = load_corpus(tmp_path)
    assert [item.name for item in loaded] == sorted(item.name for item in corpus)
    by_name = {item.name: item for item in corpus}
    for item in loaded:
        generated = by_name[item.name]
        assert len(item.series) == 1500
        assert len(item.windows) == len(generated.windows) == len(item.anomaly_points)
        spans = window_spans(item.series.times, item.windows)
        assert [(s.first_row, s.last_row) for s in spans] == list(generated.windows)
        for span, row in zip(spans, generated.anomaly_rows, strict=True):
            assert span.first_row <= row <= span.last_row
            assert span.first_row >= probation_length(1500)
    assert make_corpus(files=8, rows=1500, seed=5) == corpus
