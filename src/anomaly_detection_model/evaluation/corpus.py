"""Loading a labelled corpus: a folder of `timestamp,value` CSVs plus `labels.json`.

`labels.json` maps each file name to ``{"anomaly_windows": [[start, end], ...], "anomaly_points":
[...]}`` (timestamps as text; the points, optional, are the labelled anomalies the windows are
centred on); files with no entry, or an empty list, have no anomaly windows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from anomaly_detection_model.streaming.series_csv import Series, parse_timestamp, read_series_file

LABELS_FILE = "labels.json"


class CorpusError(ValueError):
    """The corpus folder or its labels are malformed."""


@dataclass(frozen=True)
class LabelledSeries:
    name: str
    series: Series
    windows: tuple[tuple[datetime, datetime], ...]
    anomaly_points: tuple[datetime, ...]


def _parse_windows(name: str, entry: object) -> tuple[tuple[datetime, datetime], ...]:
    if not isinstance(entry, dict):
        raise CorpusError(f"{LABELS_FILE}: entry for {name!r} must be an object")
    raw_windows = entry.get("anomaly_windows", [])
    if not isinstance(raw_windows, list):
        raise CorpusError(f"{LABELS_FILE}: 'anomaly_windows' of {name!r} must be a list")
    windows: list[tuple[datetime, datetime]] = []
    for window in raw_windows:
        if not (isinstance(window, list) and len(window) == 2 and all(isinstance(t, str) for t in window)):
            raise CorpusError(f"{LABELS_FILE}: window {window!r} of {name!r} must be [start, end] strings")
        try:
            start, end = parse_timestamp(window[0]), parse_timestamp(window[1])
        except ValueError:
            raise CorpusError(f"{LABELS_FILE}: window {window!r} of {name!r} has a bad timestamp") from None
        windows.append((start, end))
    return tuple(sorted(windows))


def _parse_points(name: str, entry: object) -> tuple[datetime, ...]:
    raw_points = entry.get("anomaly_points", []) if isinstance(entry, dict) else []
    if not isinstance(raw_points, list) or not all(isinstance(point, str) for point in raw_points):
        raise CorpusError(f"{LABELS_FILE}: 'anomaly_points' of {name!r} must be a list of timestamps")
    try:
        return tuple(sorted(parse_timestamp(point) for point in raw_points))
    except ValueError:
        raise CorpusError(f"{LABELS_FILE}: 'anomaly_points' of {name!r} has a bad timestamp") from None


def load_corpus(folder: Path) -> list[LabelledSeries]:
    """Load every CSV in `folder` (sorted by name) with its windows from `labels.json`."""
    if not folder.is_dir():
        raise CorpusError(f"corpus folder {str(folder)!r} does not exist")
    labels_path = folder / LABELS_FILE
    if not labels_path.is_file():
        raise CorpusError(f"corpus folder {str(folder)!r} has no {LABELS_FILE}")
    try:
        labels = json.loads(labels_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise CorpusError(f"{LABELS_FILE} is not valid JSON: {error}") from None
    if not isinstance(labels, dict):
        raise CorpusError(f"{LABELS_FILE} must map file names to label objects")
    csv_paths = sorted(folder.glob("*.csv"))
    if not csv_paths:
        raise CorpusError(f"corpus folder {str(folder)!r} has no CSV files")
    corpus: list[LabelledSeries] = []
    for path in csv_paths:
        entry = labels.get(path.name, {})
        windows = _parse_windows(path.name, entry)
        points = _parse_points(path.name, entry)
        series = read_series_file(path)
        corpus.append(LabelledSeries(name=path.name, series=series, windows=windows, anomaly_points=points))
    return corpus
