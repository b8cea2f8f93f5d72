"""Durations as the policy file writes them: ``30s``, ``10m``, ``1h``, ``1d`` or plain seconds."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}


class PolicyError(ValueError):
    """The policy file is invalid; the message names the line and what is wrong."""


def parse_duration(value: object, where: str = "duration") -> float:
    if isinstance(value, bool):
        raise PolicyError(f"{where}: expected a duration like 30s, 10m or 1h, got {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise PolicyError(f"{where}: must not be negative")
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise PolicyError(f"{where}: expected a duration like 30s, 10m or 1h, got {value!r}")
    return float(match.group(1)) * _UNIT[match.group(2)]
