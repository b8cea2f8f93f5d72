"""NAB-style comparison on a generated labelled corpus (an independent check beside real data).

The corpus (see anomaly_detection_model.evaluation.synthetic_corpus) is written to a temporary
folder and scored exactly like the real one. Prints figures only.

Usage: python bench/nab_synthetic.py [--files N] [--rows N] [--seed N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from anomaly_detection_model.evaluation.nab import main as evaluate
from anomaly_detection_model.evaluation.synthetic_corpus import make_corpus, write_corpus


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=24)
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--per-file", action="store_true", help="also print the per-file tables")
    args = parser.parse_args()
    if args.files < 1 or args.rows < 1000:
        parser.error("--files must be >= 1 and --rows >= 1000")
    with tempfile.TemporaryDirectory() as folder:
        write_corpus(Path(folder), make_corpus(args.files, args.rows, args.seed))
        print(f"Generated corpus: seed {args.seed}")
        return evaluate(["--data", folder] + ([] if args.per_file else ["--no-per-file"]))


if __name__ == "__main__":
    sys.exit(main())
