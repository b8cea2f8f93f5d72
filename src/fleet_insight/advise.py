"""Resource advice on the command line: table, JSON/YAML, or ready-to-run kubectl lines.

python -m fleet_insight.advise --duckdb FILE --start ISO --end ISO --deployments deployments.json
    [--format table|json|yaml|kubectl] [--changed-only]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import yaml

from fleet_insight.analysis import RangeError, ReportOptions, deployment_advice
from fleet_insight.cli_inputs import add_source_arguments, load_deployments, load_json, source_from_args, time_range
from fleet_insight.resources import DeploymentAdvice, advice_rows, kubectl_patch_command, strategic_merge_patch
from fleet_insight.source import SourceError

FORMATS = ("table", "json", "yaml", "kubectl")


def advice_documents(advice: Sequence[DeploymentAdvice]) -> list[dict[str, Any]]:
    """One plain document per Deployment: rows, patch (or null) and the kubectl line (or null)."""
    return [
        {
            "cluster": a.cluster,
            "namespace": a.namespace,
            "deployment": a.name,
            "changed": a.changed,
            "rows": [asdict(r) for r in advice_rows(a)],
            "patch": strategic_merge_patch(a),
            "kubectl": kubectl_patch_command(a),
        }
        for a in advice
    ]


def render_table(advice: Sequence[DeploymentAdvice]) -> str:
    headers = ("NAMESPACE", "DEPLOYMENT", "CONTAINER", "RESOURCE", "CURRENT", "RECOMMENDED", "REASON")
    rows = [
        (
            r.namespace,
            r.deployment,
            r.container,
            r.resource,
            r.current,
            r.recommended + (" *" if r.changed else ""),
            r.reason,
        )
        for a in advice
        for r in advice_rows(a)
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines) + "\n"


def render(advice: Sequence[DeploymentAdvice], fmt: str) -> str:
    if fmt == "table":
        return render_table(advice)
    if fmt == "json":
        return json.dumps(advice_documents(advice), indent=2, sort_keys=True) + "\n"
    if fmt == "yaml":
        return yaml.safe_dump(advice_documents(advice), sort_keys=True)
    lines = [cmd for a in advice if (cmd := kubectl_patch_command(a))]
    return "".join(f"{line}\n" for line in lines)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m fleet_insight.advise",
        description="Recommended CPU/memory requests and limits per Deployment container, with patches.",
    )
    add_source_arguments(p)
    p.add_argument("--deployments", required=True, metavar="FILE", help="kubectl get deployments -o json")
    p.add_argument("--format", choices=FORMATS, default="table")
    p.add_argument("--changed-only", action="store_true", help="only Deployments with a recommended change")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        start, end = time_range(args)
        deployments = load_deployments(load_json(args.deployments, "--deployments"))
        options = ReportOptions(start=start, end=end, deployments=deployments)
        source = source_from_args(args)
        try:
            advice, notes = deployment_advice(source, options)
        finally:
            source.close()
    except (RangeError, SourceError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.changed_only:
        advice = [a for a in advice if a.changed]
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    sys.stdout.write(render(advice, args.format))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
