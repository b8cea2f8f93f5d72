"""The promotion gate: register a candidate only if it beats the current model.

Both models are evaluated on the same held-back rows (see :mod:`holdout`). The
candidate is promoted when there is no current model, or when its average
precision beats the current model's by more than ``min_gain``; in both cases
only if its false-positive rate on healthy rows stays under a ceiling.
Standard library only: the kfp gate step imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    reason: str


def gate(
    candidate: dict[str, Any],
    current: dict[str, Any] | None,
    min_gain: float = 0.0,
    max_false_positive_rate: float = 0.02,
) -> GateDecision:
    """Promote the candidate only if it beats the current model on the same held-back rows."""
    fpr = float(candidate["false_positive_rate"])
    if fpr > max_false_positive_rate:
        return GateDecision(False, f"candidate false-positive rate {fpr:.4f} exceeds {max_false_positive_rate}")
    ap = float(candidate["average_precision"])
    if current is None:
        return GateDecision(True, f"no current model; candidate average precision {ap:.4f}")
    current_ap = float(current["average_precision"])
    if ap > current_ap + min_gain:
        return GateDecision(True, f"average precision {ap:.4f} beats current {current_ap:.4f}")
    return GateDecision(False, f"average precision {ap:.4f} does not beat current {current_ap:.4f} (+{min_gain})")
