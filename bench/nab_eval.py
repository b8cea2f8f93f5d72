"""NAB-style comparison of the streaming detector with the baselines on the labelled AWS series.

Usage: python bench/nab_eval.py [DATA_DIR]

DATA_DIR defaults to `shared/data/nab-aws` beside the repository (the repository root's parent);
when it is absent the script says so and exits 0, since the data is not part of the repository.
"""

from __future__ import annotations

import sys
from pathlib import Path

from anomaly_detection_model.evaluation.nab import main as evaluate

DEFAULT_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nab-aws"


def main() -> int:
    if len(sys.argv) > 2:
        print("usage: python bench/nab_eval.py [DATA_DIR]", file=sys.stderr)
        return 2
    data = Path(sys.argv[1]) if len(sys.argv) == 2 else DEFAULT_DATA
    if not data.is_dir():
        print(f"NAB data folder not found ({data.name}); pass its path as the argument. Nothing to do.")
        return 0
    return evaluate(["--data", str(data)])


if __name__ == "__main__":
    sys.exit(main())
