"""The `python -m anomaly_detection_model.detect` command: happy path and malformed input."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from anomaly_detection_model.streaming.synthetic import AnomalyKind, make_series


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "anomaly_detection_model.detect", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=120,
        check=False,
    )


def _stamp(row: int) -> str:
    return f"2024-01-{1 + row // 288:02d} {(row % 288) * 5 // 60:02d}:{(row % 288) * 5 % 60:02d}:00"


def _write_series(path: Path, values: tuple[float, ...]) -> list[str]:
    stamps = [_stamp(i) for i in range(len(values))]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "value"])
        writer.writerows(zip(stamps, (repr(v) for v in values), strict=True))
    return stamps


def test_scores_every_row_and_flags_the_spike(tmp_path: Path) -> None:
    series = make_series(1500, seed=7, kind=AnomalyKind.SPIKE, anomaly_start=1200)
    source = tmp_path / "in.csv"
    stamps = _write_series(source, series.values)
    target = tmp_path / "out.csv"

    result = _run(str(source), str(target))

    assert result.returncode == 0, result.stderr
    with target.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["timestamp", "value", "anomaly_score"]
    assert [row["timestamp"] for row in rows] == stamps
    assert [float(row["value"]) for row in rows] == list(series.values)
    scores = [float(row["anomaly_score"]) for row in rows]
    assert all(0.0 <= score <= 1.0 for score in scores)
    assert max(range(len(scores)), key=scores.__getitem__) == 1200


def test_reads_stdin_and_writes_stdout() -> None:
    text = "timestamp,value\n" + "".join(f"2024-01-01T00:{i:02d}:00,{i % 7}\n" for i in range(30))
    result = _run("-", "-", stdin=text)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "timestamp,value,anomaly_score"
    assert len(lines) == 31
    assert lines[5].startswith("2024-01-01T00:04:00,4,")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "file is empty"),
        ("2024-01-01 00:00:00,1.0\n2024-01-01 00:05:00,2.0\n", "header 'timestamp,value'"),
        ("time,val\n2024-01-01 00:00:00,1.0\n", "header 'timestamp,value'"),
        ("timestamp,value\n", "no data rows"),
        ("timestamp,value\n2024-01-01 00:00:00,1.0\n2024-01-01 00:05:00,high\n", "line 3: value 'high'"),
        ("timestamp,value\n2024-01-01 00:00:00,nan\n", "not a finite number"),
        ("timestamp,value\nyesterday,1.0\n", "line 2: bad timestamp 'yesterday'"),
        ("timestamp,value\n2024-13-01 00:00:00,1.0\n", "bad timestamp"),
        ("timestamp,value\n2024-01-01 00:00:00,1.0,3\n", "expected 2 fields, got 3"),
        ("timestamp,value\n2024-01-01 00:05:00,1.0\n2024-01-01 00:00:00,2.0\n", "rows must be in time order"),
    ],
)
def test_malformed_input_is_rejected_with_a_clear_message(tmp_path: Path, content: str, expected: str) -> None:
    source = tmp_path / "in.csv"
    source.write_text(content)
    target = tmp_path / "out.csv"

    result = _run(str(source), str(target))

    assert result.returncode != 0
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert not target.exists()


def test_missing_input_file_is_reported(tmp_path: Path) -> None:
    result = _run(str(tmp_path / "absent.csv"), str(tmp_path / "out.csv"))
    assert result.returncode != 0
    assert "does not exist" in result.stderr


def test_missing_arguments_print_usage() -> None:
    result = _run()
    assert result.returncode != 0
    assert "usage:" in result.stderr


def test_output_rows_up_to_t_do_not_change_when_later_rows_change() -> None:
    prefix = make_series(900, seed=21).values
    later_a = make_series(300, seed=22).values
    later_b = make_series(300, seed=23, kind=AnomalyKind.LEVEL_SHIFT, anomaly_start=5).values

    def as_csv(values: tuple[float, ...]) -> str:
        return "timestamp,value\n" + "".join(f"{_stamp(i)},{v!r}\n" for i, v in enumerate(values))

    out_a = _run("-", "-", stdin=as_csv(prefix + later_a))
    out_b = _run("-", "-", stdin=as_csv(prefix + later_b))
    assert out_a.returncode == 0 and out_b.returncode == 0
    lines_a, lines_b = out_a.stdout.splitlines(), out_b.stdout.splitlines()
    assert lines_a[: 1 + len(prefix)] == lines_b[: 1 + len(prefix)]
    assert lines_a[1 + len(prefix) :] != lines_b[1 + len(prefix) :]


def test_repeated_timestamps_are_accepted() -> None:
    text = "timestamp,value\n2014-03-09 01:55:00,1\n2014-03-09 03:00:00,2\n2014-03-09 03:00:00,3\n"
    result = _run("-", "-", stdin=text)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 4


def test_unwritable_output_is_reported(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("timestamp,value\n2024-01-01 00:00:00,1.0\n")
    result = _run(str(source), str(tmp_path / "missing-folder" / "out.csv"))
    assert result.returncode != 0
    assert "error:" in result.stderr
    assert "out.csv" in result.stderr
    assert "Traceback" not in result.stderr


def test_binary_input_is_reported(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(b"timestamp,value\n\xff\xfe\x00garbage\n")
    result = _run(str(source), str(tmp_path / "out.csv"))
    assert result.returncode != 0
    assert "not UTF-8 text" in result.stderr
