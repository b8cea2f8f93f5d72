"""Kubernetes resource quantities (cpu and memory) parsed to plain numbers."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
}


def parse_quantity(value: object) -> float:
    """Parse '250m', '1.5', '512Mi', '1G', 2 or '1e3' into a float; ValueError when malformed."""
    if isinstance(value, bool):
        raise ValueError(f"not a quantity: {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"not a quantity: {value!r}")
    text = value.strip()
    for suffix, factor in _BINARY.items():
        if text.endswith(suffix):
            return _number(text[: -len(suffix)], value) * factor
    suffix = text[-1] if text[-1] in "numkMGTPE" else ""
    number_text = text[:-1] if suffix else text
    return float(_decimal(number_text, value) * _DECIMAL[suffix])


def _number(text: str, original: object) -> float:
    return float(_decimal(text, original))


def _decimal(text: str, original: object) -> Decimal:
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(f"not a quantity: {original!r}") from exc
    if not number.is_finite() or number < 0:
        raise ValueError(f"not a quantity: {original!r}")
    return number


def format_cpu(cores: float) -> str:
    millis = round(cores * 1000)
    return f"{millis // 1000}" if millis % 1000 == 0 else f"{millis}m"


def format_memory(num_bytes: float) -> str:
    value = int(num_bytes)
    for suffix in ("Gi", "Mi", "Ki"):
        if value and value % _BINARY[suffix] == 0:
            return f"{value // _BINARY[suffix]}{suffix}"
    return str(value)
