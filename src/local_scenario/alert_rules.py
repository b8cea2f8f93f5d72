"""The alert rules file (config/alert_rules.yaml) as typed values, scaled to the demo's time base.

The same file drives the Terraform alert policies; here it drives the local evaluator, so the
scenario fires on exactly the cloud's metric, comparison, threshold, duration and alignment.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ALIGNERS = ("ALIGN_MEAN", "ALIGN_MAX", "ALIGN_RATE", "ALIGN_DELTA")
COMPARISONS = ("COMPARISON_GT", "COMPARISON_LT")
SEVERITIES = ("CRITICAL", "ERROR", "WARNING")


class AlertRulesError(ValueError):
    """The rules file is malformed; the message names the policy and the field."""


@dataclass(frozen=True)
class AlertRule:
    name: str
    kind: str
    severity: str
    resource_type: str
    metric_type: str
    metric_kind: str
    aligner: str
    comparison: str
    threshold: float
    duration_seconds: float
    alignment_seconds: float
    documentation: str

    def violates(self, value: float) -> bool:
        if self.comparison == "COMPARISON_GT":
            return value > self.threshold
        return value < self.threshold

    def condition_name(self) -> str:
        sign = ">" if self.comparison == "COMPARISON_GT" else "<"
        return f"{self.metric_type} {sign} {self.threshold:g} for {self.duration_seconds:g}s"


@dataclass(frozen=True)
class TimeBase:
    """The demo's accelerated clock: `speed` cloud seconds pass in one demo second."""

    speed: float

    def __post_init__(self) -> None:
        if not 1 <= self.speed <= 3600:
            raise ValueError(f"speed must be between 1 and 3600 cloud seconds per demo second, got {self.speed}")

    def demo_seconds(self, cloud_seconds: float) -> float:
        return cloud_seconds / self.speed

    @property
    def sample_interval(self) -> float:
        """One sample per aligned cloud minute."""
        return 60.0 / self.speed


def _field(raw: dict[str, Any], key: str, where: str) -> Any:
    if key not in raw:
        raise AlertRulesError(f"{where}: missing {key!r}")
    return raw[key]


def _number(raw: dict[str, Any], key: str, where: str) -> float:
    value = _field(raw, key, where)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AlertRulesError(f"{where}.{key}: expected a number, got {value!r}")
    if value < 0:
        raise AlertRulesError(f"{where}.{key}: must not be negative")
    return float(value)


def _choice(raw: dict[str, Any], key: str, where: str, choices: tuple[str, ...]) -> str:
    value = _field(raw, key, where)
    if value not in choices:
        raise AlertRulesError(f"{where}.{key}: expected one of {', '.join(choices)}, got {value!r}")
    return str(value)


def parse_rules(data: object) -> tuple[AlertRule, ...]:
    if not isinstance(data, dict) or not isinstance(data.get("policies"), list):
        raise AlertRulesError("the rules file must be a mapping with a 'policies' list")
    if data.get("version") != 1:
        raise AlertRulesError(f"version: expected 1, got {data.get('version')!r}")
    rules: list[AlertRule] = []
    for index, raw in enumerate(data["policies"]):
        where = f"policies[{index}]"
        if not isinstance(raw, dict):
            raise AlertRulesError(f"{where}: expected a mapping")
        where = f"policies[{index}] ({raw.get('name', '?')})"
        rules.append(
            AlertRule(
                name=str(_field(raw, "name", where)),
                kind=str(_field(raw, "kind", where)),
                severity=_choice(raw, "severity", where, SEVERITIES),
                resource_type=str(_field(raw, "resource_type", where)),
                metric_type=str(_field(raw, "metric_type", where)),
                metric_kind=str(_field(raw, "metric_kind", where)),
                aligner=_choice(raw, "per_series_aligner", where, ALIGNERS),
                comparison=_choice(raw, "comparison", where, COMPARISONS),
                threshold=_number(raw, "threshold", where),
                duration_seconds=_number(raw, "duration_seconds", where),
                alignment_seconds=_number(raw, "alignment_period_seconds", where),
                documentation=str(raw.get("documentation") or ""),
            )
        )
    return tuple(rules)


def load_rules(path: Path) -> tuple[AlertRule, ...]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AlertRulesError(f"{path}: cannot read the alert rules: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise AlertRulesError(f"{path}: not valid YAML: {exc}") from exc
    return parse_rules(data)
