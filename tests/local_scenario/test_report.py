"""The HTML report is one self-contained file with a chart and the chat messages per fault."""

from __future__ import annotations

import re
from pathlib import Path

from local_scenario.alert_rules import TimeBase, load_rules
from local_scenario.chat_receivers import ChatMessage, headline
from local_scenario.faults import FAULTS
from local_scenario.monitor import SeriesPoint
from local_scenario.outcome import FaultRecord, judge
from local_scenario.report import write_report

REPO = Path(__file__).resolve().parents[2]


def _record() -> FaultRecord:
    record = FaultRecord(FAULTS["cpu_hog"], injected_at=100.0, injection_note="pod shop/checkout-1 burns its CPU")
    record.alert_at, record.incident_id, record.alert_policy = 101.5, "0.local1", "gke-container-cpu-high"
    record.decision_at, record.first_mutation_at = 102.0, 101.8
    record.decision = {"outcome": "acted", "action": "restart", "detail": "rollout restart of shop/checkout"}
    record.recovered_at, record.closed_at = 102.6, 102.5
    for channel in ("slack", "teams"):
        payload = {"text": "Healer restarted <checkout> & co", "blocks": []}
        record.messages.append(ChatMessage(channel, 102.3, headline(channel, payload), payload))
    return record


def test_report_has_a_chart_with_markers_and_the_escaped_messages(tmp_path: Path) -> None:
    record = _record()
    verdict = judge([record], dry_run=False, protected_mutations=0, mutating_calls=2, dead_letters=0)
    aligned = {
        ("gke-container-cpu-high", "shop", "checkout"): [SeriesPoint(99 + i * 0.25, 0.3 + i * 0.05) for i in range(14)]
    }
    path = write_report(
        tmp_path / "report.html",
        records=[record],
        rules=load_rules(REPO / "config" / "alert_rules.yaml"),
        aligned=aligned,
        anomaly={("shop", "checkout"): [SeriesPoint(99 + i * 0.25, 0.1) for i in range(14)]},
        verdict=verdict,
        time_base=TimeBase(240),
        dry_run=False,
    )

    text = path.read_text()
    assert verdict.ok
    assert "RESULT: PASS" in text
    assert text.count("<svg") == 1
    assert text.count("<polyline") == 2  # the metric and the anomaly score
    for marker in ("injected", "alert", "action", "recovered", "closed"):
        assert f">{marker}</text>" in text
    assert "threshold 0.9" in text
    assert "Healer restarted &lt;checkout&gt; &amp; co" in text
    assert "<checkout>" not in text
    assert not re.search(r'(src|href)="(https?:)?//', text)  # nothing loaded from elsewhere


def test_failed_fault_is_marked_in_the_report(tmp_path: Path) -> None:
    record = _record()
    record.recovered_at = None
    record.messages = []
    verdict = judge([record], dry_run=False, protected_mutations=0, mutating_calls=2, dead_letters=0)
    path = write_report(tmp_path / "r.html", records=[record], rules=(), aligned={}, anomaly={}, verdict=verdict,
                        time_base=TimeBase(240), dry_run=False)  # fmt: skip

    text = path.read_text()
    assert not verdict.ok
    assert "RESULT: FAIL" in text
    assert "the workload did not recover" in text
    assert "No chat message was sent" in text
