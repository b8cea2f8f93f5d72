"""Per-fault records and the verdict: pure functions over what the scenario observed."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from local_scenario.chat_receivers import ChatMessage
from local_scenario.faults import FaultSpec

RECOVERY_P95_TARGET_SECONDS = 10.0


@dataclass
class FaultRecord:
    spec: FaultSpec
    label: str = ""  # the fault's name, with the round when there are several
    injected_at: float = 0.0
    injection_note: str = ""
    alert_at: float | None = None
    incident_id: str = ""
    alert_policy: str = ""
    anomaly_alert_at: float | None = None  # the anomaly model's alert on the same workload, if any
    decision_at: float | None = None
    decision: dict[str, Any] = field(default_factory=dict)
    first_mutation_at: float | None = None  # the healer's first mutating Kubernetes call for this fault
    recovered_at: float | None = None
    closed_at: float | None = None
    closed_decision: dict[str, Any] = field(default_factory=dict)
    cleared_by_operator_at: float | None = None
    messages: list[ChatMessage] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def action_at(self) -> float | None:
        """When the healer acted: its first mutating call, else (dry run, refusal) its decision."""
        return self.first_mutation_at if self.first_mutation_at is not None else self.decision_at

    def since_injection(self, moment: float | None) -> float | None:
        return None if moment is None else moment - self.injected_at

    @property
    def notified_at(self) -> float | None:
        """When both Slack and Teams had a message about this fault's decision."""
        if self.decision_at is None:
            return None
        firsts = []
        for channel in ("slack", "teams"):
            times = [m.at for m in self.messages if m.channel == channel]
            if not times:
                return None
            firsts.append(min(times))
        return max(firsts)

    def expected_outcome(self, dry_run: bool) -> str:
        if dry_run:
            return "refused" if self.spec.expect == "refuse" else "dry_run"
        return "refused" if self.spec.expect == "refuse" else "acted"

    def verdict(self, dry_run: bool) -> list[str]:
        """What went wrong (empty when the fault was handled as expected)."""
        problems = list(self.problems)
        if self.alert_at is None:
            problems.append("no alert opened")
        outcome = self.decision.get("outcome")
        expected = self.expected_outcome(dry_run)
        if outcome != expected:
            problems.append(f"healer decision was {outcome or 'missing'}, expected {expected}")
        if self.spec.expect == "refuse" and self.decision.get("reason") != "protected_namespace":
            problems.append(f"refusal reason was {self.decision.get('reason')!r}, expected protected_namespace")
        if self.notified_at is None:
            problems.append("not notified in both Slack and Teams")
        if expected == "acted" and self.recovered_at is None:
            problems.append("the workload did not recover")
        if self.closed_at is None:
            problems.append("the alert did not close")
        return problems

    def healed(self) -> bool:
        return self.decision.get("outcome") == "acted" and self.recovered_at is not None


def percentile(values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Verdict:
    ok: bool
    lines: tuple[str, ...]
    recovery_p95: float | None


def judge(
    records: list[FaultRecord],
    *,
    dry_run: bool,
    protected_mutations: int,
    mutating_calls: int,
    dead_letters: int,
) -> Verdict:
    lines: list[str] = []
    ok = True
    for record in records:
        problems = record.verdict(dry_run)
        if problems:
            ok = False
            lines.append(f"FAIL {record.label or record.spec.name}: " + "; ".join(problems))
    recoveries = [r.recovered_at - r.injected_at for r in records if r.healed() and r.recovered_at is not None]
    p95 = percentile(recoveries, 95)
    if not dry_run and any(r.spec.expect == "heal" for r in records):
        healed = sum(1 for r in records if r.spec.expect == "heal" and r.healed())
        wanted = sum(1 for r in records if r.spec.expect == "heal")
        target_ok = healed == wanted and all(not r.verdict(dry_run) for r in records)
        lines.append(f"{'PASS' if target_ok else 'FAIL'} every injected fault healed and notified ({healed}/{wanted})")
        ok = ok and target_ok
        p95_ok = p95 is not None and p95 <= RECOVERY_P95_TARGET_SECONDS
        shown = "n/a" if p95 is None else f"{p95:.2f}s"
        lines.append(
            f"{'PASS' if p95_ok else 'FAIL'} injection-to-recovery p95 {shown} <= {RECOVERY_P95_TARGET_SECONDS:g}s "
            f"(over {len(recoveries)} recoveries)"
        )
        ok = ok and p95_ok
    if dry_run:
        handled = all(not r.verdict(dry_run) for r in records)
        lines.append(f"{'PASS' if handled else 'FAIL'} every fault decided (dry run) and notified")
        lines.append(
            f"{'PASS' if mutating_calls == 0 else 'FAIL'} dry run: {mutating_calls} mutating Kubernetes calls (target 0)"
        )
        ok = ok and mutating_calls == 0
    lines.append(
        f"{'PASS' if protected_mutations == 0 else 'FAIL'} protected-namespace workloads touched: "
        f"{protected_mutations} mutating calls (target 0)"
    )
    ok = ok and protected_mutations == 0
    lines.append(
        f"{'PASS' if dead_letters == 0 else 'FAIL'} dead-lettered incident messages: {dead_letters} (target 0)"
    )
    ok = ok and dead_letters == 0
    return Verdict(ok, tuple(lines), p95)
