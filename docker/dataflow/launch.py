"""Flex template entry point: runs ``python -m dataflow.features_pipeline`` with the launcher's arguments.

The Dataflow flex template launcher executes a Python file (FLEX_TEMPLATE_PYTHON_PY_FILE), while
the pipeline is a module of the installed package; this file bridges the two.
"""

from __future__ import annotations

import runpy

PIPELINE_MODULE = "dataflow.features_pipeline"


def main() -> None:
    runpy.run_module(PIPELINE_MODULE, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
