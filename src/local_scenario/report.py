"""The HTML report: one self-contained file (inline CSS and SVG), one section per fault."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from local_scenario.alert_rules import AlertRule, TimeBase
from local_scenario.chat_receivers import ChatMessage
from local_scenario.monitor import SeriesPoint
from local_scenario.outcome import FaultRecord, Verdict
from local_scenario.timeline import LABELS, Event

WIDTH, HEIGHT, PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 760, 230, 52, 16, 16, 34
MARKERS = (
    ("injected", "#7b1fa2"),
    ("anomaly alert", "#00897b"),
    ("alert", "#d32f2f"),
    ("action", "#1565c0"),
    ("recovered", "#2e7d32"),
    ("closed", "#616161"),
)
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#212121;max-width:980px}
h1{font-size:22px}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ddd;padding:4px 8px;font-size:13px;text-align:left}
.ok{color:#2e7d32;font-weight:600}.fail{color:#c62828;font-weight:600}
.legend span{display:inline-block;margin-right:14px;font-size:12px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
pre{background:#f5f5f5;padding:8px;font-size:11px;overflow:auto;max-height:300px}
.muted{color:#757575;font-size:13px}
"""


@dataclass(frozen=True)
class ChartSeries:
    label: str
    color: str
    points: Sequence[SeriesPoint]


def _x(t: float, t0: float, t1: float) -> float:
    return PAD_LEFT + (t - t0) / max(t1 - t0, 1e-6) * (WIDTH - PAD_LEFT - PAD_RIGHT)


def _y(v: float, lo: float, hi: float) -> float:
    return HEIGHT - PAD_BOTTOM - (v - lo) / max(hi - lo, 1e-9) * (HEIGHT - PAD_TOP - PAD_BOTTOM)


def chart_svg(
    series: Sequence[ChartSeries],
    threshold: float | None,
    markers: dict[str, float | None],
    t0: float,
    t1: float,
    origin: float,
) -> str:
    """A line chart over [t0, t1]; the time axis is labelled in seconds from `origin` (the injection)."""
    values = [p.value for s in series for p in s.points if t0 <= p.at <= t1]
    hi = max([*values, threshold or 0.0, 1.0]) * 1.1
    lo = min([*values, 0.0])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img">',
        f'<rect x="{PAD_LEFT}" y="{PAD_TOP}" width="{WIDTH - PAD_LEFT - PAD_RIGHT}" '
        f'height="{HEIGHT - PAD_TOP - PAD_BOTTOM}" fill="#fafafa" stroke="#e0e0e0"/>',
    ]
    for i in range(5):
        value = lo + (hi - lo) * i / 4
        y = _y(value, lo, hi)
        parts.append(f'<text x="{PAD_LEFT - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{value:.2g}</text>')
    span = t1 - t0
    for i in range(6):
        t = t0 + span * i / 5
        parts.append(
            f'<text x="{_x(t, t0, t1):.1f}" y="{HEIGHT - PAD_BOTTOM + 14}" font-size="10" '
            f'text-anchor="middle">{t - origin:+.1f}s</text>'
        )
    if threshold is not None:
        y = _y(threshold, lo, hi)
        parts.append(
            f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ff9800" '
            f'stroke-dasharray="5,4"/><text x="{WIDTH - PAD_RIGHT - 4}" y="{y - 4:.1f}" font-size="10" '
            f'text-anchor="end" fill="#e65100">threshold {threshold:g}</text>'
        )
    for s in series:
        shown = [p for p in s.points if t0 <= p.at <= t1]
        if len(shown) < 2:
            continue
        path = " ".join(f"{_x(p.at, t0, t1):.1f},{_y(p.value, lo, hi):.1f}" for p in shown)
        parts.append(f'<polyline fill="none" stroke="{s.color}" stroke-width="1.8" points="{path}"/>')
    colors = dict(MARKERS)
    for index, (name, moment) in enumerate(markers.items()):
        if moment is None or not t0 <= moment <= t1:
            continue
        x = _x(moment, t0, t1)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{PAD_TOP}" y2="{HEIGHT - PAD_BOTTOM}" stroke="{colors[name]}" '
            f'stroke-width="1.5"/><text x="{x + 3:.1f}" y="{PAD_TOP + 11 + 11 * index}" font-size="10" '
            f'fill="{colors[name]}">{name}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _secs(record: FaultRecord, moment: float | None) -> str:
    value = record.since_injection(moment)
    return "-" if value is None else f"{value:.2f} s"


def _messages_html(messages: list[ChatMessage], start: float) -> str:
    if not messages:
        return '<p class="fail">No chat message was sent for this fault.</p>'
    rows = []
    for m in sorted(messages, key=lambda m: m.at):
        payload = html.escape(json.dumps(m.payload, indent=2)[:6000])
        rows.append(
            f"<tr><td>{m.at - start:+.2f} s</td><td>{html.escape(m.channel)}</td>"
            f"<td>{html.escape(m.headline)}<details><summary>payload</summary><pre>{payload}</pre></details></td></tr>"
        )
    return "<table><tr><th>after injection</th><th>channel</th><th>message</th></tr>" + "".join(rows) + "</table>"


def fault_section(
    record: FaultRecord,
    rule: AlertRule | None,
    aligned: dict[tuple[str, str, str], list[SeriesPoint]],
    anomaly: dict[tuple[str, str], list[SeriesPoint]],
    dry_run: bool,
) -> str:
    spec = record.spec
    problems = record.verdict(dry_run)
    status = (
        '<span class="ok">handled</span>'
        if not problems
        else '<span class="fail">' + html.escape("; ".join(problems)) + "</span>"
    )
    markers = {
        "injected": record.injected_at,
        "anomaly alert": record.anomaly_alert_at,
        "alert": record.alert_at,
        "action": record.action_at,
        "recovered": record.recovered_at,
        "closed": record.closed_at,
    }
    ends = [m for m in markers.values() if m is not None]
    t0 = record.injected_at - 2.5
    t1 = max(ends) + 1.5
    series = []
    if rule is not None:
        series.append(
            ChartSeries(
                f"{rule.metric_type} ({rule.aligner}, worst series)",
                "#1e88e5",
                aligned.get((rule.name, spec.namespace, spec.workload), []),
            )
        )
    anomaly_points = anomaly.get((spec.namespace, spec.workload), [])
    if anomaly_points:
        series.append(ChartSeries("anomaly score (0..1)", "#00897b", anomaly_points))
    legend = "".join(f'<span><i style="background:{s.color}"></i>{html.escape(s.label)}</span>' for s in series)
    legend += "".join(f'<span><i style="background:{c}"></i>{n}</span>' for n, c in MARKERS)
    decision = record.decision
    return f"""
<h2>{html.escape(record.label or spec.name)}: {html.escape(spec.description)}</h2>
<p>Workload <b>{html.escape(spec.namespace)}/{html.escape(spec.workload)}</b> &middot; alert policy
<b>{html.escape(record.alert_policy or "-")}</b> &middot; incident {html.escape(record.incident_id or "-")}
&middot; {status}</p>
<p class="muted">{html.escape(record.injection_note)}</p>
<div class="legend">{legend}</div>
{chart_svg(series, rule.threshold if rule else None, markers, t0, t1, record.injected_at)}
<table><tr><th>alert</th><th>action</th><th>recovered</th><th>notified</th><th>closed</th><th>healer decision</th></tr>
<tr><td>{_secs(record, record.alert_at)}</td><td>{_secs(record, record.action_at)}</td>
<td>{_secs(record, record.recovered_at)}</td><td>{_secs(record, record.notified_at)}</td>
<td>{_secs(record, record.closed_at)}</td>
<td>{html.escape(str(decision.get("outcome", "-")))} {html.escape(str(decision.get("action") or ""))}:
{html.escape(str(decision.get("detail", "")))}</td></tr></table>
<h3>Chat messages</h3>
{_messages_html(record.messages, record.injected_at)}
"""


def write_report(
    path: Path,
    *,
    records: list[FaultRecord],
    rules: Sequence[AlertRule],
    aligned: dict[tuple[str, str, str], list[SeriesPoint]],
    anomaly: dict[tuple[str, str], list[SeriesPoint]],
    verdict: Verdict,
    time_base: TimeBase,
    dry_run: bool,
    events: Sequence[Event] = (),
) -> Path:
    by_kind: dict[str, AlertRule] = {}
    for rule in rules:
        by_kind.setdefault(rule.kind, rule)
    verdict_rows = "".join(
        f'<li class="{"ok" if line.startswith("PASS") else "fail"}">{html.escape(line)}</li>' for line in verdict.lines
    )
    sections = "".join(fault_section(r, by_kind.get(r.spec.rule_kind), aligned, anomaly, dry_run) for r in records)
    timeline_rows = "".join(
        f"<tr><td>{e.elapsed:.2f} s</td><td>{html.escape(LABELS.get(e.category, e.category))}</td>"
        f"<td>{html.escape(e.fault)}</td><td>{html.escape(e.text)}</td></tr>"
        for e in sorted(events, key=lambda e: e.at)
    )
    timeline_html = (
        "<h2>Timeline</h2><table><tr><th>time</th><th>event</th><th>fault</th><th>what happened</th></tr>"
        + timeline_rows
        + "</table>"
        if events
        else ""
    )
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    document = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Self-healing local scenario</title>
<style>{CSS}</style></head><body>
<h1>Self-healing local scenario {"(dry run)" if dry_run else ""}</h1>
<p class="muted">Generated {generated}. Accelerated time base: {time_base.speed:g} cloud seconds per demo second;
one sample every {time_base.sample_interval * 1000:.0f} ms (one aligned cloud minute). Alert durations and
alignment periods from the alert rules file are scaled by the same factor.</p>
<p class="{"ok" if verdict.ok else "fail"}">RESULT: {"PASS" if verdict.ok else "FAIL"}</p>
<ul>{verdict_rows}</ul>
{sections}
{timeline_html}
</body></html>
"""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document, encoding="utf-8")
    return path
