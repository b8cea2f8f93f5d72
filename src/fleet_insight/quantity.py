"""Kubernetes resource quantities: parse "250m", "1.5", "512Mi", "1G" and format them back.

CPU is handled in cores (float), memory in bytes (int). Formatting rounds *up* so
a recommendation is never smaller than what the arithmetic asked for.
"""

from __future__ import annotations

import math
import re

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
