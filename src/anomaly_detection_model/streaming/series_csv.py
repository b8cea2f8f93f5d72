"""Reading and writing `timestamp,value` series files, with clear errors for malformed input."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TextIO

INPUT_HEADER = ("timestamp", "value")
OUTPUT_HEADER = ("timestamp", "value", "anomaly_score")


class SeriesFormatError(ValueError):
    """The input file is not a well-formed `timestamp,value` series."""


@dataclass(frozen=True)
class Series:
    """A univariate series: timestamps as written in the file, parsed times and float values."""

    raw_timestamps: tuple[str, ...]
    times: tuple[datetime, ...]
    raw_values: tuple[str, ...]
    values: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.values)


def parse_timestamp(text: str) -> datetime:
    """Parse an ISO-8601 style timestamp such as `2014-02-14 14:30:00` (a `T` separator is fine too)."""
    stripped = text.strip()
    if not stripped:
        raise ValueError("empty timestamp")
    parsed = datetime.fromisoformat(stripped.replace("Z", "+00:00"))
    return parsed.replace(tzinfo=None) if parsed.tzinfo is not None else parsed


def _parse_value(text: str) -> float:
    value = float(text.strip())
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    return value


def read_series(stream: TextIO, source: str = "input") -> Series:
    """Read a `timestamp,value` CSV with a header row; timestamps must not go backwards."""
    reader = csv.reader(stream)
    header = next(reader, None)
    if header is None:
        raise SeriesFormatError(f"{source}: file is empty; expected a header line 'timestamp,value'")
    normalised = tuple(cell.strip().lower() for cell in header)
    if normalised != INPUT_HEADER:
        raise SeriesFormatError(f"{source}: first line must be the header 'timestamp,value', got {','.join(header)!r}")
    raw_timestamps: list[str] = []
    times: list[datetime] = []
    raw_values: list[str] = []
    values: list[float] = []
    for line_number, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != 2:
            raise SeriesFormatError(f"{source}, line {line_number}: expected 2 fields, got {len(row)}")
        stamp_text, value_text = row
        try:
            stamp = parse_timestamp(stamp_text)
        except ValueError:
            raise SeriesFormatError(
                f"{source}, line {line_number}: bad timestamp {stamp_text!r} (expected e.g. '2014-02-14 14:30:00')"
            ) from None
        try:
            value = _parse_value(value_text)
        except ValueError:
            raise SeriesFormatError(
                f"{source}, line {line_number}: value {value_text!r} is not a finite number"
            ) from None
        if times and stamp < times[-1]:
            raise SeriesFormatError(
                f"{source}, line {line_number}: timestamp {stamp_text.strip()!r} is before "
                f"the previous one {raw_timestamps[-1]!r}; rows must be in time order"
            )
        raw_timestamps.append(stamp_text.strip())
        times.append(stamp)
        raw_values.append(value_text.strip())
        values.append(value)
    if not values:
        raise SeriesFormatError(f"{source}: no data rows after the header")
    return Series(tuple(raw_timestamps), tuple(times), tuple(raw_values), tuple(values))


def read_series_file(path: Path) -> Series:
    """Read a series from a file path (see `read_series`)."""
    with path.open(newline="", encoding="utf-8") as stream:
        return read_series(stream, source=str(path.name))


def write_scored_series(stream: TextIO, series: Series, scores: Sequence[float]) -> None:
    """Write `timestamp,value,anomaly_score` rows, echoing timestamps and values as they were read."""
    if len(scores) != len(series):
        raise ValueError("one score per row is required")
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(OUTPUT_HEADER)
    rows: Iterable[tuple[str, str, str]] = (
        (stamp, value, f"{score:.6f}")
        for stamp, value, score in zip(series.raw_timestamps, series.raw_values, scores, strict=True)
    )
    writer.writerows(rows)
