"""The health score: pure arithmetic on additive signal counts (see README.md for the formula)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from typing import NamedTuple

COMPONENTS = ("ready", "restarts", "ooms", "pressure", "anomalies", "healing_need", "healing_held")


class WorkloadKey(NamedTuple):
    cluster: str
    namespace: str
    kind: str
    name: str

    def label(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class HealthWeights:
    ready: float = 0.25
    restarts: float = 0.15
    ooms: float = 0.15
    pressure: float = 0.10
    anomalies: float = 0.10
    healing_need: float = 0.10
    healing_held: float = 0.15

    def __post_init__(self) -> None:
        for f in fields(self):
            if getattr(self, f.name) < 0:
                raise ValueError(f"weight {f.name} must be >= 0")
        if sum(getattr(self, f.name) for f in fields(self)) <= 0:
            raise ValueError("at least one weight must be positive")


@dataclass(frozen=True)
class HealthParams:
    """Rates at which a rate-based component falls to 0.5, and the recurrence window."""

    restarts_half_per_hour: float = 1.0
    ooms_half_per_hour: float = 0.5
    healing_half_per_day: float = 2.0
    pressure_utilisation: float = 0.9  # a window is "under pressure" at/above this fraction of a limit
    recur_hours: float = 6.0  # healed but a new incident on the same target within this = did not hold
    weights: HealthWeights = HealthWeights()

    def __post_init__(self) -> None:
        for name in ("restarts_half_per_hour", "ooms_half_per_hour", "healing_half_per_day", "recur_hours"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")
        if not 0 < self.pressure_utilisation <= 1.5:
            raise ValueError("pressure_utilisation must be within (0, 1.5]")


DEFAULT_PARAMS = HealthParams()


@dataclass(frozen=True)
class Signals:
    """Additive counts for one subject (workload, namespace, node) over some period."""

    windows: int = 0  # 1-minute feature windows observed
    ready_windows: int = 0  # windows with pods seen and no restart/OOM in them
    restarts: int = 0
    ooms: int = 0
    pressure_windows: int = 0  # windows at/above the pressure utilisation (CPU mean or memory max)
    scored: int = 0  # anomaly-scored windows
    anomalies: int = 0  # of which anomalous
    incidents: int = 0  # healing incidents on the subject
    attempts: int = 0  # incidents the healer acted on
    held: int = 0  # attempts that healed and did not come back within recur_hours
    node_ready: int | None = None  # node only: 1 ready, 0 not ready (current condition)
    node_pressure: tuple[int, int] | None = None  # node only: (pressure conditions true, known)

    def __add__(self, other: Signals) -> Signals:
        return Signals(
            windows=self.windows + other.windows,
            ready_windows=self.ready_windows + other.ready_windows,
            restarts=self.restarts + other.restarts,
            ooms=self.ooms + other.ooms,
            pressure_windows=self.pressure_windows + other.pressure_windows,
            scored=self.scored + other.scored,
            anomalies=self.anomalies + other.anomalies,
            incidents=self.incidents + other.incidents,
            attempts=self.attempts + other.attempts,
            held=self.held + other.held,
            node_ready=_add_opt(self.node_ready, other.node_ready),
            node_pressure=_add_pair(self.node_pressure, other.node_pressure),
        )

    @property
    def has_data(self) -> bool:
        return bool(self.windows or self.scored or self.incidents or self.node_ready is not None or self.node_pressure)


def _add_opt(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _add_pair(a: tuple[int, int] | None, b: tuple[int, int] | None) -> tuple[int, int] | None:
    return b if a is None else a if b is None else (a[0] + b[0], a[1] + b[1])


@dataclass(frozen=True)
class HealthScore:
    score: float | None  # 0..100, None when there is no data at all
    components: Mapping[str, float | None]  # each 0..1 (1 = healthy), None = no data

    def worst(self) -> str | None:
        known = {k: v for k, v in self.components.items() if v is not None}
        return min(known, key=lambda k: known[k]) if known else None


def _decay(rate: float, half: float) -> float:
    """1 at rate 0, 0.5 at rate == half, towards 0 as the rate grows."""
    return 1.0 / (1.0 + rate / half)


def component_values(
    signals: Signals, period_hours: float, params: HealthParams, healing_known: bool = True
) -> dict[str, float | None]:
    """Each component in [0, 1] (1 = healthy) or None when its inputs are absent.

    ``healing_known=False`` (no healing-actions table) leaves both healing components out
    instead of reading "no incidents" as "never needed healing"."""
    if period_hours <= 0:
        raise ValueError("period_hours must be > 0")
    s = signals
    observed_hours = s.windows / 60.0
    comps: dict[str, float | None] = dict.fromkeys(COMPONENTS)
    if s.windows > 0:
        comps["ready"] = s.ready_windows / s.windows
        comps["restarts"] = _decay(s.restarts / observed_hours, params.restarts_half_per_hour)
        comps["ooms"] = _decay(s.ooms / observed_hours, params.ooms_half_per_hour)
        comps["pressure"] = 1.0 - s.pressure_windows / s.windows
    if s.node_ready is not None:
        comps["ready"] = float(s.node_ready) if comps["ready"] is None else min(comps["ready"], s.node_ready)
    if s.node_pressure is not None and s.node_pressure[1] > 0:
        node_p = 1.0 - s.node_pressure[0] / s.node_pressure[1]
        comps["pressure"] = node_p if comps["pressure"] is None else min(comps["pressure"], node_p)
    if s.scored > 0:
        comps["anomalies"] = 1.0 - s.anomalies / s.scored
    if s.has_data and healing_known:
        comps["healing_need"] = _decay(s.incidents / (period_hours / 24.0), params.healing_half_per_day)
    if s.attempts > 0:
        comps["healing_held"] = s.held / s.attempts
    return comps


def score(
    signals: Signals, period_hours: float, params: HealthParams = DEFAULT_PARAMS, healing_known: bool = True
) -> HealthScore:
    """Weighted mean of the available components, x100. Weights of absent components are
    redistributed over the present ones; no data at all gives ``score=None``."""
    comps = component_values(signals, period_hours, params, healing_known)
    weights = {f.name: getattr(params.weights, f.name) for f in fields(params.weights)}
    total_w = sum(weights[k] for k, v in comps.items() if v is not None)
    if not signals.has_data or total_w <= 0:
        return HealthScore(None, comps)
    value = 100.0 * sum(weights[k] * v for k, v in comps.items() if v is not None) / total_w
    return HealthScore(round(value, 2), comps)


def weighted_mean(scores: Iterable[tuple[float | None, float]]) -> float | None:
    """Mean of scores weighted by e.g. observed windows; None scores are skipped."""
    pairs = [(s, max(w, 1.0)) for s, w in scores if s is not None]
    if not pairs:
        return None
    return round(sum(s * w for s, w in pairs) / sum(w for _, w in pairs), 2)
