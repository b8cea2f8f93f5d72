"""Policy files: valid ones load, malformed ones are rejected with line-level messages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from self_healing_service.policy import PolicyError, default_policy, load_policy, load_policy_text

GOOD = """\
version: 1
defaults:
  cooldown: 5m
  budgets:
    per_target: {limit: 2, window: 1h}
    per_cluster: {limit: 5, window: 30m}
  circuit_breaker: {limit: 8, window: 10m}
  maintenance_windows:
    - {days: [sat, sun], start: "02:00", end: "04:00"}
rules:
  - name: web-cpu
    match: {kinds: [high_cpu], namespaces: ["shop", "web-*"], labels: {tier: web}}
    ladder:
      - action: restart
      - action: scale_out
        params: {max_replicas: 6, step: 2, scale_back_on_close: true}
        approval: true
    verify: {timeout: 90s, recheck_after: 10m}
    on_exhausted: undo
"""


def test_good_policy_loads() -> None:
    policy = load_policy_text(GOOD, "p.yaml")
    assert policy.defaults.cooldown_seconds == 300
    assert policy.defaults.per_target.limit == 2 and policy.defaults.per_cluster.window_seconds == 1800
    assert policy.defaults.per_namespace == default_policy().defaults.per_namespace
    rule = policy.rule_for("high_cpu", "prod", "web-eu", {"tier": "web"})
    assert rule is not None and rule.name == "web-cpu"
    assert [s.action for s in rule.ladder] == ["restart", "scale_out"]
    assert rule.ladder[1].approval and rule.ladder[1].params["max_replicas"] == 6
    assert rule.on_exhausted == "undo" and rule.verify_timeout_seconds == 90
    assert policy.rule_for("high_cpu", "prod", "other", {"tier": "web"}) is None
    assert policy.rule_for("high_cpu", "prod", "shop", {"tier": "db"}) is None


def test_maintenance_window() -> None:
    policy = load_policy_text(GOOD)
    saturday_3am = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
    monday_3am = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    assert policy.in_maintenance(saturday_3am) is not None
    assert policy.in_maintenance(monday_3am) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 2\nrules: []\n", r"line 1: version: must be 1"),
        (
            "version: 1\nrules:\n  - name: a\n    match: {kinds: [hot_cpu]}\n    ladder: [{action: restart}]\n",
            r"line 4: rules\[0\]\.match\.kinds: unknown kind 'hot_cpu'",
        ),
        (
            "version: 1\nrules:\n  - name: a\n    match: {}\n    ladder:\n      - action: reboot\n",
            r"line 6: rules\[0\]\.ladder\[0\]\.action: unknown action 'reboot'",
        ),
        (
            "version: 1\nrules:\n  - name: a\n    match: {}\n    ladder:\n      - action: scale_out\n"
            "        params: {max_replicas: many}\n",
            r"line 7: .*max_replicas: wrong type",
        ),
        ("version: 1\ndefaults:\n  cooldown: soon\n", r"line 3: defaults\.cooldown: expected a duration"),
        (
            "version: 1\ndefaults:\n  budgets:\n    per_target: {limit: 3}\n",
            r"line 4: .*needs both 'limit' and 'window'",
        ),
        ("version: 1\ndefaults:\n  colldown: 5m\n", r"line 3: defaults: unknown key 'colldown'"),
        ("version: 1\nrules:\n  - name: a\n    match: {}\n    ladder: []\n", r"line 5: .*at least one step"),
        ("version: 1\nrules: [\n", r"line \d+: not valid YAML"),
        (
            "version: 1\ndefaults:\n  maintenance_windows:\n    - {days: [someday], start: '1:00', end: '2:00'}\n",
            r"line 4: .*not a weekday",
        ),
        (
            "version: 1\nrules:\n  - name: a\n    match: {}\n    ladder: [{action: raise_memory, params: {factor: 9}}]\n",
            r"line 5: .*factor must be in \(1, 4\]",
        ),
        ("", r"empty"),
    ],
)
def test_malformed_policies_point_at_the_line(text: str, expected: str) -> None:
    with pytest.raises(PolicyError, match=expected):
        load_policy_text(text, "policy.yaml")


def test_missing_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(PolicyError, match="cannot read the policy file"):
        load_policy(str(tmp_path / "absent.yaml"))


def test_no_file_means_safe_defaults() -> None:
    policy = load_policy("")
    assert policy.source == "built-in defaults"
    assert policy.rule_for("high_cpu", "c", "ns", {}) is not None
    assert policy.defaults.cooldown_seconds == 600 and policy.defaults.per_target.limit == 3
