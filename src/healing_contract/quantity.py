"""Kubernetes resource quantities and the memory-raise rule, below both the healer and the fleet report.

Quantities: parse "250m", "1.5", "512Mi", "1G" and format them back. CPU is handled in cores
(float), memory in bytes (int). Formatting rounds *up* so a recommendation is never smaller
than what the arithmetic asked for.

The memory-raise rule (:func:`recommend_memory_limit`, :func:`raise_memory_limit`) is the one
the healer's ``raise_memory`` action applies and the fleet report advises, so chat and report
never disagree. Standard library only.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_QUANTITY = re.compile(r"^\s*([+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*([a-zA-Z]*)\s*$")

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "": 1.0,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
}

MI = 2**20
GI = 2**30


class QuantityError(ValueError):
    """A Kubernetes quantity string could not be parsed; the message quotes it."""


def parse_quantity(text: str | int | float) -> float:
    """The value of a quantity in base units (cores for CPU, bytes for memory)."""
    if isinstance(text, bool):
        raise QuantityError(f"quantity must be a string or number, got {text!r}")
    if isinstance(text, int | float):
        if not math.isfinite(text) or text < 0:
            raise QuantityError(f"quantity must be a finite non-negative number, got {text!r}")
        return float(text)
    if not isinstance(text, str):
        raise QuantityError(f"quantity must be a string or number, got {type(text).__name__}")
    match = _QUANTITY.match(text)
    if not match:
        raise QuantityError(f"not a Kubernetes quantity: {text!r}")
    number, suffix = float(match.group(1)), match.group(2)
    if suffix in _BINARY:
        return number * _BINARY[suffix]
    if suffix in _DECIMAL:
        return number * _DECIMAL[suffix]
    raise QuantityError(f"unknown quantity suffix {suffix!r} in {text!r}")


def parse_cpu(text: str | int | float) -> float:
    """CPU cores: "250m" -> 0.25, "2" -> 2.0."""
    return parse_quantity(text)


def parse_memory(text: str | int | float) -> int:
    """Bytes: "512Mi" -> 536870912, "1G" -> 1000000000."""
    return math.ceil(parse_quantity(text))


def format_cpu(cores: float) -> str:
    """Millicores rounded up to a multiple of 5m ("250m"); whole cores as "2"."""
    if not math.isfinite(cores) or cores < 0:
        raise QuantityError(f"CPU must be a finite non-negative number of cores, got {cores!r}")
    millis = math.ceil(round(cores * 1000, 6) / 5) * 5
    if millis and millis % 1000 == 0:
        return str(millis // 1000)
    return f"{millis}m"


def format_memory(num_bytes: float) -> str:
    """Bytes rounded up to a whole Mi ("512Mi"); whole Gi as "2Gi"."""
    if not math.isfinite(num_bytes) or num_bytes < 0:
        raise QuantityError(f"memory must be a finite non-negative number of bytes, got {num_bytes!r}")
    mebibytes = math.ceil(round(num_bytes / MI, 6))
    if mebibytes and mebibytes % 1024 == 0:
        return f"{mebibytes // 1024}Gi"
    return f"{mebibytes}Mi"


def format_mebibytes(num_bytes: int) -> str:
    """Bytes rounded up to whole Mi, always in Mi ("384Mi", "4096Mi"): how the healer writes a raised limit."""
    return f"{-(-num_bytes // MI)}Mi"


# --------------------------------------------------------------------------- the memory-raise rule


@dataclass(frozen=True)
class AdvicePolicy:
    """Knobs of the recommendation; the defaults are documented in the package README."""

    memory_limit_percentile: float = 99.0
    memory_request_percentile: float = 95.0
    cpu_request_percentile: float = 90.0
    cpu_limit_percentile: float = 99.0
    memory_limit_headroom: float = 1.2
    memory_request_headroom: float = 1.1
    cpu_request_headroom: float = 1.1
    cpu_limit_headroom: float = 1.3
    oom_raise_factor: float = 1.5  # after OOM kills: at least current limit x this
    max_raise_factor: float = 2.0  # never more than current x this in one step
    throttled_utilisation: float = 0.95  # CPU p99 at/above this fraction of the limit = pinned
    max_memory_bytes: int = 64 * GI
    min_memory_bytes: int = 32 * MI
    min_cpu_cores: float = 0.01
    tolerance: float = 0.10  # relative changes within this keep the current value
    min_samples_to_lower: int = 60  # fewer samples never lower a value

    def __post_init__(self) -> None:
        for name in (
            "memory_limit_percentile",
            "memory_request_percentile",
            "cpu_request_percentile",
            "cpu_limit_percentile",
        ):
            value = getattr(self, name)
            if not 0 <= value <= 100:
                raise ValueError(f"{name} must be within [0, 100], got {value}")
        for name in (
            "memory_limit_headroom",
            "memory_request_headroom",
            "cpu_request_headroom",
            "cpu_limit_headroom",
            "oom_raise_factor",
        ):
            if getattr(self, name) < 1.0:
                raise ValueError(f"{name} must be >= 1.0, got {getattr(self, name)}")
        if self.max_raise_factor < self.oom_raise_factor:
            raise ValueError("max_raise_factor must be >= oom_raise_factor")
        if self.min_memory_bytes <= 0 or self.max_memory_bytes < self.min_memory_bytes:
            raise ValueError("need 0 < min_memory_bytes <= max_memory_bytes")
        if not 0 <= self.tolerance < 1:
            raise ValueError(f"tolerance must be within [0, 1), got {self.tolerance}")


DEFAULT_POLICY = AdvicePolicy()


@dataclass(frozen=True)
class Recommendation:
    """One recommended value (base units) with the reason, or ``None`` when there is nothing to say."""

    current: float | None
    value: float | None
    reason: str

    @property
    def changed(self) -> bool:
        return self.value is not None and self.current != self.value


# --------------------------------------------------------------------------- helpers


def percentile(values: Iterable[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default method); ``None`` for no finite values."""
    data = sorted(v for v in values if v is not None and math.isfinite(v))
    if not data:
        return None
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within [0, 100], got {q}")
    pos = (len(data) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def clean_samples(values: Iterable[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and math.isfinite(v) and v >= 0]


def within_tolerance(current: float, proposed: float, tolerance: float) -> bool:
    return current > 0 and abs(proposed - current) / current <= tolerance


def round_memory(value: float) -> int:
    return math.ceil(value / MI) * MI


def percentile_label(q: float) -> str:
    return f"p{q:g}"


# --------------------------------------------------------------------------- memory


def recommend_memory_limit(
    usage_history: Sequence[float],
    current_limit: int | None,
    oom_events: int,
    policy: AdvicePolicy = DEFAULT_POLICY,
) -> Recommendation:
    """Recommended memory limit in bytes.

    ``usage_history``: absolute peak memory per window in bytes (may be empty, e.g. when
    the healer reacts to an OOM kill and has no history at hand). ``current_limit``: the
    container's limit today (bytes) or ``None``. ``oom_events``: OOM kills seen in the window.

    Rules: the ``memory_limit_percentile`` of the history times ``memory_limit_headroom``;
    after OOM kills at least ``current_limit * oom_raise_factor``; never more than
    ``current_limit * max_raise_factor`` nor ``max_memory_bytes``; never below
    ``min_memory_bytes``; without OOMs and with fewer than ``min_samples_to_lower`` samples
    never lower; changes within ``tolerance`` keep the current value.
    """
    if isinstance(oom_events, bool) or not isinstance(oom_events, int) or oom_events < 0:
        raise ValueError(f"oom_events must be a non-negative integer, got {oom_events!r}")
    if current_limit is not None and (not isinstance(current_limit, int | float) or current_limit <= 0):
        raise ValueError(f"current_limit must be a positive number of bytes or None, got {current_limit!r}")
    samples = clean_samples(usage_history)
    peak = percentile(samples, policy.memory_limit_percentile)
    from_usage = peak * policy.memory_limit_headroom if peak is not None else None
    label = f"{percentile_label(policy.memory_limit_percentile)} x {policy.memory_limit_headroom:g}"

    if current_limit is None:
        if from_usage is None:
            return Recommendation(None, None, "no memory limit set and no usage history")
        first = round_memory(min(max(from_usage, policy.min_memory_bytes), policy.max_memory_bytes))
        return Recommendation(None, float(first), f"no limit set; {label} of peak usage")

    current = float(current_limit)
    ceiling = min(current * policy.max_raise_factor, float(policy.max_memory_bytes))
    if oom_events > 0:
        floor = current * policy.oom_raise_factor
        proposed = max(from_usage or 0.0, floor)
        reason = f"{oom_events} OOM kill(s): at least {policy.oom_raise_factor:g} x current limit"
        if from_usage is not None and from_usage > floor:
            reason = f"{oom_events} OOM kill(s); {label} of peak usage"
        if proposed > ceiling:
            proposed = ceiling
            reason += f", capped at {format_memory(ceiling)}"
        value = float(round_memory(max(proposed, policy.min_memory_bytes)))
        if value <= current:
            return Recommendation(current, current, reason + "; already at the ceiling, escalate")
        return Recommendation(current, value, reason)

    if from_usage is None:
        return Recommendation(current, current, "no usage history: keep")
    proposed = min(max(from_usage, policy.min_memory_bytes), ceiling)
    if proposed < current and len(samples) < policy.min_samples_to_lower:
        return Recommendation(current, current, f"only {len(samples)} samples: too few to lower")
    if within_tolerance(current, proposed, policy.tolerance):
        return Recommendation(current, current, f"{label} of peak usage is within tolerance: keep")
    value = float(round_memory(proposed))
    direction = "raise" if value > current else "lower"
    return Recommendation(current, value, f"{direction}: {label} of peak usage")


def raise_memory_limit(
    current_limit: str,
    oom_events: int = 1,
    factor: float = 1.5,
    cap: str = "4Gi",
    usage_history: Sequence[float] = (),
) -> Recommendation:
    """The healer's "raise memory limit" step on Kubernetes quantity strings.

    Same rules as :func:`recommend_memory_limit` with ``oom_raise_factor=factor`` and
    ``max_memory_bytes=cap``: e.g. ``"256Mi"`` after an OOM kill -> 384Mi; at the cap the
    recommendation is unchanged (``changed`` is False) and the reason says so.
    ``usage_history`` (peak bytes per window) may raise it further, never above the cap.
    """
    limit = parse_memory(current_limit)
    ceiling = parse_memory(cap)
    if limit <= 0:
        raise ValueError(f"current memory limit must be positive, got {current_limit!r}")
    policy = AdvicePolicy(
        oom_raise_factor=factor,
        max_raise_factor=max(factor, DEFAULT_POLICY.max_raise_factor),
        max_memory_bytes=max(ceiling, DEFAULT_POLICY.min_memory_bytes),
    )
    return recommend_memory_limit(usage_history, limit, oom_events, policy)


