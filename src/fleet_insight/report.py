"""Self-contained HTML fleet health report.

    python -m fleet_insight.report --duckdb FILE --start ISO --end ISO --out report.html
    python -m fleet_insight.report --bigquery-dataset project.dataset --start ... --end ... --out ...

One file: inline CSS, inline SVG charts, one tiny inline script (allowed by hash in the
Content-Security-Policy, which blocks everything else) that marks the page as rendered.
Every name from the cluster is HTML-escaped.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import yaml

from fleet_insight.analysis import FleetReport, RangeError, ReportOptions, SubjectHealth, build_report
from fleet_insight.cli_inputs import add_source_arguments, load_deployments, load_json, source_from_args, time_range
from fleet_insight.health import COMPONENTS, HealthParams
from fleet_insight.incidents import Recurrence
from fleet_insight.nodes import parse_node_conditions
from fleet_insight.resources import advice_rows, kubectl_patch_command, percentile, strategic_merge_patch
from fleet_insight.source import DuckDBSource, SourceError
from fleet_insight.svg import Series, bar_chart, line_chart, sparkline

SECTIONS = (
    ("fleet-summary", "Fleet summary"),
    ("health-over-time", "Health over time"),
    ("workloads", "Workloads"),
    ("nodes", "Nodes"),
    ("top-incidents", "Top recurring incidents"),
    ("healed", "What was healed and how fast"),
    ("recurring", "What keeps coming back"),
    ("resource-advice", "Resource advice"),
    ("method", "How the score is computed"),
)

CHECK_SCRIPT = (
    "(function(){var need=" + json.dumps([s for s, _ in SECTIONS]) + ";"
    "var missing=need.filter(function(id){return !document.getElementById(id);});"
    "var charts=document.querySelectorAll('svg.chart').length;"
    "document.body.setAttribute('data-report-check',missing.length?'missing:'+missing.join(','):'ok');"
    "document.body.setAttribute('data-chart-count',String(charts));})();"
)
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(CHECK_SCRIPT.encode("utf-8")).digest()).decode("ascii")
CSP = f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'sha256-{_SCRIPT_HASH}'"

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:1rem 2rem;
color:#222;line-height:1.4}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.5rem 0}
th,td{border-bottom:1px solid #eee;padding:.25rem .4rem;text-align:left;vertical-align:top}
th{background:#f5f5f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
.score{font-weight:600;padding:.05rem .4rem;border-radius:.3rem}
.good{background:#e3f4e1}.warn{background:#fff3cd}.bad{background:#f8d7da}.none{background:#eee}
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:.4rem;padding:.5rem 1rem;
min-width:9rem}.card .big{font-size:1.6rem;font-weight:600}.muted{color:#666;font-size:.85rem}
pre{background:#f6f8fa;padding:.5rem;overflow-x:auto;font-size:.78rem;white-space:pre-wrap;word-break:break-all}
.changed{font-weight:600}.wide{overflow-x:auto}svg{max-width:100%;height:auto}nav a{margin-right:.8rem;font-size:.85rem}
"""


def _e(value: Any) -> str:
    return escape("" if value is None else str(value), quote=True)


def _score_cell(value: float | None) -> str:
    if value is None:
        return '<span class="score none">n/a</span>'
    css = "good" if value >= 80 else "warn" if value >= 60 else "bad"
    return f'<span class="score {css}">{value:.0f}</span>'


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _ts(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = "".join(
            f'<td class="num">{cell}</td>' if i in numeric else f"<td>{cell}</td>" for i, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    if not rows:
        body.append(f'<tr><td colspan="{len(headers)}" class="muted">none</td></tr>')
    return f'<div class="wide"><table><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _section(section_id: str, content: str) -> str:
    title = dict(SECTIONS)[section_id]
    return f'<section id="{section_id}"><h2>{_e(title)}</h2>{content}</section>'


def _summary(r: FleetReport) -> str:
    healed = sum(1 for i in r.incidents if i.healed)
    acted = sum(1 for i in r.incidents if i.acted)
    cards = [
        ("Fleet health", _score_cell(r.fleet_score)),
        ("Workloads", _e(len(r.workloads))),
        ("Namespaces", _e(len(r.namespaces))),
        ("Nodes seen", _e(len(r.nodes))),
        ("Incidents", _e(len(r.incidents))),
        ("Healed / acted", f"{healed} / {acted}"),
        ("Came back", _e(len(r.comebacks))),
        ("Advice with changes", _e(sum(1 for a in r.advice if a.changed))),
    ]
    html = ['<div class="cards">']
    for label, value in cards:
        html.append(f'<div class="card"><div class="muted">{_e(label)}</div><div class="big">{value}</div></div>')
    html.append("</div>")
    ns_rows = [
        [_e(n.name), _e(n.cluster), _score_cell(n.health.score), _e(n.note), sparkline(n.series)] for n in r.namespaces
    ]
    html.append("<h3>Namespaces</h3>")
    html.append(_table(["Namespace", "Cluster", "Score", "Note", "Trend"], ns_rows))
    if r.notes:
        html.append("<ul>" + "".join(f'<li class="muted">{_e(n)}</li>' for n in r.notes) + "</ul>")
    return "".join(html)


def _over_time(r: FleetReport) -> str:
    parts = []
    fleet = [Series("fleet", r.fleet_series)] + [Series(n.name, n.series) for n in r.namespaces[:8]]
    parts.append(line_chart(r.bucket_starts, fleet, "Health per namespace"))
    worst = [w for w in r.workloads if w.health.score is not None][:8]
    if worst:
        parts.append("<h3>Least healthy workloads</h3>")
        parts.append(line_chart(r.bucket_starts, [Series(w.label(), w.series) for w in worst], "Health per workload"))
    parts.append(f'<p class="muted">One point per {_duration(float(r.bucket_seconds))} bucket; gaps = no data.</p>')
    return "".join(parts)


def _component_cells(s: SubjectHealth) -> list[str]:
    out = []
    for c in COMPONENTS:
        v = s.health.components.get(c)
        out.append("-" if v is None else f"{v:.2f}")
    return out


def _workloads(r: FleetReport) -> str:
    rows = [
        [
            _e(w.namespace),
            _e(w.name),
            _e(w.kind),
            _score_cell(w.health.score),
            *_component_cells(w),
            _e(w.signals.restarts),
            _e(w.signals.ooms),
            _e(w.signals.incidents),
            sparkline(w.series),
        ]
        for w in r.workloads
    ]
    headers = ["Namespace", "Workload", "Kind", "Score", *COMPONENTS, "Restarts", "OOMs", "Incidents", "Trend"]
    return _table(headers, rows, numeric=tuple(range(4, 14)))


def _nodes(r: FleetReport) -> str:
    rows = [
        [_e(n.name), _e(n.cluster), _score_cell(n.health.score), _e(n.signals.incidents), _e(n.note)] for n in r.nodes
    ]
    return (
        _table(["Node", "Cluster", "Score", "Incidents", "Current conditions"], rows, numeric=(3,))
        + '<p class="muted">The features table has no node column: node health comes from healing actions on '
        "nodes (node_not_ready, target kind Node) and from the node conditions passed with --node-conditions "
        "(a snapshot, not history).</p>"
    )


def _top_incidents(r: FleetReport) -> str:
    rows = [
        [
            _e(t.target.label()),
            _e(t.target.kind),
            _e(", ".join(t.kinds)),
            _e(t.incidents),
            _e(t.healed),
            _e(t.came_back),
            _e(_ts(t.last_seen)),
        ]
        for t in r.recurring
    ]
    chart = ""
    if r.recurring:
        chart = bar_chart([t.target.label() for t in r.recurring], [t.incidents for t in r.recurring], "Incidents")
    return chart + _table(
        ["Target", "Kind", "Incident kinds", "Incidents", "Healed", "Came back", "Last seen"], rows, (3, 4, 5)
    )


def _healed(r: FleetReport) -> str:
    rows = [
        [
            _e(h.kind),
            _e(h.action),
            _e(h.incidents),
            _e(h.healed),
            _e(h.failed),
            _e(_duration(h.median_ttr_s)),
            _e(_duration(h.p90_ttr_s)),
        ]
        for h in r.healing
    ]
    timed = [h for h in r.healing if h.median_ttr_s is not None]
    chart = ""
    if timed:
        chart = bar_chart(
            [f"{h.kind} / {h.action}" for h in timed],
            [h.median_ttr_s or 0.0 for h in timed],
            "Median time to recover",
            unit=" s",
        )
    return (
        chart
        + _table(
            ["Incident kind", "First action", "Acted on", "Healed", "Failed/escalated", "Median TTR", "p90 TTR"],
            rows,
            (2, 3, 4, 5, 6),
        )
        + '<p class="muted">TTR: incident start to verified recovery (time_to_recover_s).</p>'
    )


def _recurring(r: FleetReport) -> str:
    grouped: dict[str, list[Recurrence]] = {}
    for c in r.comebacks:
        grouped.setdefault(c.healed.target.label(), []).append(c)
    summary = [
        [
            _e(label),
            _e(", ".join(sorted({c.healed.kind for c in items} | {c.came_back.kind for c in items}))),
            _e(", ".join(sorted({a for c in items for a in c.healed.actions}))),
            _e(len(items)),
            _e(_duration(percentile([c.gap.total_seconds() for c in items], 50))),
            _e(_ts(max(c.came_back.started for c in items))),
        ]
        for label, items in sorted(grouped.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]
    detail = [
        [
            _e(c.healed.target.label()),
            _e(c.healed.kind),
            _e(", ".join(c.healed.actions)),
            _e(_ts(c.healed.started)),
            _e(c.came_back.kind),
            _e(_ts(c.came_back.started)),
            _e(_duration(c.gap.total_seconds())),
        ]
        for c in r.comebacks[-100:]
    ]
    return (
        f'<p class="muted">Healed, then a new incident on the same target within {r.params.recur_hours:g} h.</p>'
        + _table(["Target", "Incident kinds", "Healed by", "Came back", "Median gap", "Last time"], summary, (3, 4))
        + "<details><summary>Every time it came back (latest 100)</summary>"
        + _table(["Target", "Kind", "Healed by", "Healed incident", "Came back as", "At", "After"], detail, (6,))
        + "</details>"
    )


def _advice(r: FleetReport) -> str:
    if not r.advice:
        return '<p class="muted">No Deployment specs given: pass --deployments (kubectl get deployments -o json).</p>'
    parts = []
    rows = []
    for a in r.advice:
        for row in advice_rows(a):
            css = ' class="changed"' if row.changed else ""
            rows.append(
                [
                    _e(row.namespace),
                    _e(row.deployment),
                    _e(row.container),
                    _e(row.resource),
                    _e(row.current),
                    f"<span{css}>{_e(row.recommended)}</span>",
                    _e(row.reason),
                ]
            )
    parts.append(_table(["Namespace", "Deployment", "Container", "Resource", "Current", "Recommended", "Why"], rows))
    for a in r.advice:
        command = kubectl_patch_command(a)
        if command is None:
            continue
        patch = strategic_merge_patch(a)
        as_json = json.dumps(patch, indent=2, sort_keys=True)
        as_yaml = yaml.safe_dump(patch, sort_keys=True)
        parts.append(f"<h3>{_e(a.namespace)}/{_e(a.name)}</h3>")
        parts.append(f'<pre class="patch">{_e(command)}</pre>')
        parts.append(f"<details><summary>Patch as JSON</summary><pre>{_e(as_json)}</pre></details>")
        parts.append(f"<details><summary>Patch as YAML</summary><pre>{_e(as_yaml)}</pre></details>")
    return "".join(parts)


def _method(r: FleetReport) -> str:
    p = r.params
    w = p.weights
    return (
        "<p>Score = 100 x weighted mean of the components present (each 0..1, 1 = healthy); "
        "weights of absent components are shared out over the present ones.</p><ul>"
        f"<li>ready ({w.ready:g}): windows with pods seen and no restart/OOM / windows</li>"
        f"<li>restarts ({w.restarts:g}): 1 / (1 + restarts per hour / {p.restarts_half_per_hour:g})</li>"
        f"<li>ooms ({w.ooms:g}): 1 / (1 + OOM kills per hour / {p.ooms_half_per_hour:g})</li>"
        f"<li>pressure ({w.pressure:g}): 1 - windows with CPU mean or memory max at or above "
        f"{p.pressure_utilisation:g} of the limit / windows (nodes: pressure conditions)</li>"
        f"<li>anomalies ({w.anomalies:g}): 1 - anomalous windows / scored windows</li>"
        f"<li>healing_need ({w.healing_need:g}): 1 / (1 + incidents per day / {p.healing_half_per_day:g})</li>"
        f"<li>healing_held ({w.healing_held:g}): incidents acted on that healed and did not come back within "
        f"{p.recur_hours:g} h / incidents acted on</li></ul>"
    )


def render_html(r: FleetReport) -> str:
    """The report as one HTML document."""
    nav = "".join(f'<a href="#{sid}">{_e(title)}</a>' for sid, title in SECTIONS)
    body = [
        _section("fleet-summary", _summary(r)),
        _section("health-over-time", _over_time(r)),
        _section("workloads", _workloads(r)),
        _section("nodes", _nodes(r)),
        _section("top-incidents", _top_incidents(r)),
        _section("healed", _healed(r)),
        _section("recurring", _recurring(r)),
        _section("resource-advice", _advice(r)),
        _section("method", _method(r)),
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Fleet health {_e(_ts(r.start))} to {_e(_ts(r.end))}</title><style>{CSS}</style></head>"
        '<body data-report-check="pending">'
        f'<h1>Fleet health report</h1><p class="muted">{_e(r.source)} · {_e(_ts(r.start))} to '
        f"{_e(_ts(r.end))} · generated {_e(_ts(datetime.now(UTC)))}</p><nav>{nav}</nav>"
        + "".join(body)
        + f"<script>{CHECK_SCRIPT}</script></body></html>\n"
    )


# --------------------------------------------------------------------------- command line


def write_report(
    out: str | Path,
    start: datetime,
    end: datetime,
    duckdb_files: Sequence[str | Path] = (),
    healing_actions_jsonl: str | Path | None = None,
    deployments: Sequence[dict[str, Any]] = (),
    node_conditions: Any = None,
    allow_missing: Sequence[str] = (),
) -> FleetReport:
    """Build and write the report from local files in one call (for the local demo).

    ``node_conditions``: a list of ``{node, condition, status, since}`` or a NodeList.
    Raises :class:`SourceError` / ``ValueError`` with a clear message on bad input.
    """
    jsonl = {"healing_actions": healing_actions_jsonl} if healing_actions_jsonl else None
    options = ReportOptions(
        start=start,
        end=end,
        deployments=deployments,
        node_conditions=parse_node_conditions(node_conditions) if node_conditions is not None else (),
        allow_missing=frozenset(allow_missing),
    )
    source = DuckDBSource(duckdb_files, jsonl=jsonl)
    try:
        report = build_report(source, options)
    finally:
        source.close()
    Path(out).write_text(render_html(report), encoding="utf-8")
    return report


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m fleet_insight.report", description="Render a self-contained HTML fleet health report."
    )
    add_source_arguments(p)
    p.add_argument(
        "--allow-missing",
        action="append",
        choices=("features", "healing_actions"),
        help="accept this table missing (a note in the report instead of an error); repeatable",
    )
    p.add_argument("--out", required=True, help="HTML file to write")
    p.add_argument("--deployments", metavar="FILE", help="kubectl get deployments -o json (for resource advice)")
    p.add_argument("--node-conditions", metavar="FILE", help="JSON list of {node, condition, status, since}")
    p.add_argument("--recur-hours", type=float, default=6.0, help="came back within this many hours (default 6)")
    p.add_argument("--bucket-minutes", type=int, help="time bucket of the charts (default: automatic)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        start, end = time_range(args)
        options = ReportOptions(
            start=start,
            end=end,
            bucket_seconds=args.bucket_minutes * 60 if args.bucket_minutes is not None else None,
            params=HealthParams(recur_hours=args.recur_hours),
            allow_missing=frozenset(args.allow_missing or ()),
            deployments=load_deployments(load_json(args.deployments, "--deployments")) if args.deployments else (),
            node_conditions=parse_node_conditions(load_json(args.node_conditions, "--node-conditions"))
            if args.node_conditions
            else (),
        )
        source = source_from_args(args)
        try:
            report = build_report(source, options)
        finally:
            source.close()
        out = Path(args.out)
        try:
            out.write_text(render_html(report), encoding="utf-8")
        except OSError as exc:
            raise SourceError(f"--out: cannot write {out}: {exc.strerror or exc}") from exc
    except (RangeError, SourceError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"wrote {out} ({len(report.workloads)} workloads, {len(report.incidents)} incidents, "
        f"fleet score {report.fleet_score if report.fleet_score is not None else 'n/a'})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
