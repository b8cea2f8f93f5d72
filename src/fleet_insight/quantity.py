"""Kubernetes resource quantities, for the fleet report: the one implementation is :mod:`healing_contract.quantity`."""

from healing_contract.quantity import (
    GI,
    MI,
    QuantityError,
    format_cpu,
    format_memory,
    parse_cpu,
    parse_memory,
    parse_quantity,
)

__all__ = ["GI", "MI", "QuantityError", "format_cpu", "format_memory", "parse_cpu", "parse_memory", "parse_quantity"]
