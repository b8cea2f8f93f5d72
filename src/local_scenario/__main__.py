"""Entry point: `python -m local_scenario`."""

from __future__ import annotations

import sys

from local_scenario.cli import main

if __name__ == "__main__":
    sys.exit(main())
