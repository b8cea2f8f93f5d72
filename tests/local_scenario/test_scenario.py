"""A shortened local scenario, end to end on the real emulators, healer, ChatOps and stand-in cluster."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from local_scenario.emulators import Emulator
from local_scenario.scenario import ScenarioOptions, run_scenario

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.emulator, pytest.mark.slow]


def _options(tmp_path: Path, faults: tuple[str, ...], dry_run: bool) -> ScenarioOptions:
    return ScenarioOptions(
        out_dir=tmp_path / "demo",
        rules_path=REPO / "config" / "alert_rules.yaml",
        policy_path=REPO / "config" / "demo" / "healer_policy.yaml",
        routing_path=REPO / "config" / "demo" / "chatops_routing.yaml",
        faults=faults,
        dry_run=dry_run,
        child_env={k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")},
        quiet=True,
        anomaly=False,  # the learning loop has its own tests; training it here would take half a minute
    )


def test_faults_are_healed_and_notified_and_protected_namespace_untouched(
    tmp_path: Path, pubsub_emulator: Emulator, firestore_emulator: Emulator
) -> None:
    result = run_scenario(
        _options(tmp_path, ("cpu_hog", "bad_rollout", "protected_cpu_hog"), dry_run=False),
        (pubsub_emulator, firestore_emulator),
    )

    assert result.verdict.ok, result.verdict.lines
    by_name = {r.spec.name: r for r in result.records}
    assert by_name["cpu_hog"].decision["action"] == "restart"
    assert by_name["bad_rollout"].decision["action"] == "rollback"
    for name in ("cpu_hog", "bad_rollout"):
        record = by_name[name]
        assert record.healed()
        assert record.alert_at is not None and record.injected_at < record.alert_at
        assert {m.channel for m in record.messages} == {"slack", "teams"}
    protected = by_name["protected_cpu_hog"]
    assert protected.decision["outcome"] == "refused"
    assert protected.decision["reason"] == "protected_namespace"
    assert protected.notified_at is not None
    assert result.protected_mutations == 0
    assert result.mutating_calls > 0  # the healer really changed the shop workloads
    assert result.dead_letters == 0
    assert result.report_path is not None and result.report_path.is_file()
    fleet = result.report_path.parent / "fleet-report.html"
    assert fleet.is_file() and 'href="fleet-report.html"' in result.report_path.read_text()
    assert "checkout" in fleet.read_text()  # the healer's audit rows reached the fleet report


def test_dry_run_decides_and_notifies_with_zero_mutating_calls(
    tmp_path: Path, pubsub_emulator: Emulator, firestore_emulator: Emulator
) -> None:
    result = run_scenario(
        _options(tmp_path, ("cpu_hog", "crash_loop"), dry_run=True), (pubsub_emulator, firestore_emulator)
    )

    assert result.verdict.ok, result.verdict.lines
    assert result.mutating_calls == 0
    for record in result.records:
        assert record.decision["outcome"] == "dry_run"
        assert record.notified_at is not None
        assert record.closed_at is not None
    assert any("would" in m.headline.lower() for m in result.messages)
