"""Score a univariate metric series for anomalies, streaming, with no look-ahead.

Usage: python -m anomaly_detection_model.detect INPUT.csv OUTPUT.csv

INPUT.csv has the header `timestamp,value`; OUTPUT.csv gets `timestamp,value,anomaly_score`
with one score in [0, 1] per row, each computed only from the rows up to and including it.
Use `-` for standard input or output.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from anomaly_detection_model.streaming.detector import score_series
from anomaly_detection_model.streaming.series_csv import SeriesFormatError, read_series, write_scored_series


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m anomaly_detection_model.detect",
        description="Streaming anomaly scores for a `timestamp,value` CSV (no look-ahead).",
    )
    parser.add_argument("input", help="input CSV with header 'timestamp,value' ('-' for stdin)")
    parser.add_argument("output", help="output CSV: timestamp,value,anomaly_score ('-' for stdout)")
    return parser.parse_args(argv)


def _run(source: TextIO, source_name: str, output: str) -> None:
    series = read_series(source, source=source_name)
    scores = score_series(series.values)
    if output == "-":
        write_scored_series(sys.stdout, series, scores)
        return
    with Path(output).open("w", newline="", encoding="utf-8") as sink:
        write_scored_series(sink, series, scores)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    try:
        if args.input == "-":
            _run(sys.stdin, "stdin", args.output)
        else:
            path = Path(args.input)
            if not path.is_file():
                print(f"error: input file {args.input!r} does not exist", file=sys.stderr)
                return 2
            with path.open(newline="", encoding="utf-8") as source:
                _run(source, path.name, args.output)
    except SeriesFormatError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except UnicodeDecodeError:
        print(f"error: {args.input!r} is not UTF-8 text", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"error: {error.strerror or error}: {error.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
