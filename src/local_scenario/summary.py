"""The console summary: per fault, seconds from injection to alert, action, recovery, notification."""

from __future__ import annotations

from local_scenario.outcome import FaultRecord


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def summary_table(records: list[FaultRecord], dry_run: bool) -> str:
    header = (
        "fault",
        "workload",
        "alert",
        "action",
        "recovered",
        "notified",
        "closed",
        "anomaly",
        "decision",
        "result",
    )
    rows = [header]
    for r in records:
        decision = f"{r.decision.get('outcome', '-')} {r.decision.get('action') or ''}".strip()
        rows.append(
            (
                r.label or r.spec.name,
                f"{r.spec.namespace}/{r.spec.workload}",
                _seconds(r.since_injection(r.alert_at)),
                _seconds(r.since_injection(r.action_at)),
                _seconds(r.since_injection(r.recovered_at)),
                _seconds(r.since_injection(r.notified_at)),
                _seconds(r.since_injection(r.closed_at)),
                _seconds(r.since_injection(r.anomaly_alert_at)),
                decision,
                "ok" if not r.verdict(dry_run) else "FAILED",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return (
        "seconds after injection (anomaly = the anomaly model's alert on the same workload, if it fired):\n"
        + "\n".join(lines)
    )
