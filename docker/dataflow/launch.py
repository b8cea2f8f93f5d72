"""Flex template entry point: runs ``python -m dataflow.features_pipeline`` with the job's parameters.

The Dataflow flex template launcher executes a Python file (FLEX_TEMPLATE_PYTHON_PY_FILE) and
passes the template parameters as ``--name=value`` options. The template's public parameter
names (metadata.json) are stable; this file maps the few that the pipeline spells differently
and points the pipeline at the BigQuery schemas baked into the image.
"""

from __future__ import annotations

import os
import runpy
import sys
from collections.abc import Sequence

PIPELINE_MODULE = "dataflow.features_pipeline"

# template parameter -> the pipeline's option
PARAMETER_OPTIONS = {
    "input_subscription_logs": "log_subscription",
    "input_subscription_metrics": "metric_subscription",
    "model_uri": "model_dir",
}

SCHEMA_DIR_ENV = "FEATURES_PIPELINE_SCHEMA_DIR"


def translate(argv: Sequence[str], schema_dir: str = "") -> list[str]:
    """Rename template parameters to pipeline options; add ``--schema_dir`` unless given."""
    out: list[str] = []
    for arg in argv:
        if arg.startswith("--"):
            name, sep, value = arg[2:].partition("=")
            if name in PARAMETER_OPTIONS:
                arg = f"--{PARAMETER_OPTIONS[name]}{sep}{value}"
        out.append(arg)
    given = {a[2:].partition("=")[0] for a in out if a.startswith("--")}
    if schema_dir and "schema_dir" not in given:
        out.append(f"--schema_dir={schema_dir}")
    return out


def main() -> None:
    sys.argv = [sys.argv[0], *translate(sys.argv[1:], os.environ.get(SCHEMA_DIR_ENV, ""))]
    runpy.run_module(PIPELINE_MODULE, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
