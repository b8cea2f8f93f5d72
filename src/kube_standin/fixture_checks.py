"""Shape checks for fixture documents; every failure names its place (e.g. "nodes[0].ready")."""

from __future__ import annotations

from typing import Any

Obj = dict[str, Any]


class FixtureError(ValueError):
    pass


def expect_map(value: Any, where: str, allowed: set[str] | None = None, required: tuple[str, ...] = ()) -> Obj:
    if not isinstance(value, dict):
        raise FixtureError(f"{where}: must be a mapping, got {type(value).__name__}")
    if allowed is not None:
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise FixtureError(
                f"{where}: unknown key(s) {', '.join(map(str, unknown))}; allowed: {', '.join(sorted(allowed))}"
            )
    for key in required:
        if key not in value:
            raise FixtureError(f"{where}.{key}: required")
    return value


def expect_list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise FixtureError(f"{where}: must be a list, got {type(value).__name__}")
    return value


def string_map(value: Any, where: str) -> dict[str, str]:
    if value is None:
        return {}
    mapping = expect_map(value, where)
    for key, item in mapping.items():
        if not isinstance(key, str) or not isinstance(item, str | int | float | bool):
            raise FixtureError(f"{where}.{key}: values must be strings")
    return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in mapping.items()}


def non_negative_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FixtureError(f"{where}: must be a non-negative integer, got {value!r}")
    return value


def boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise FixtureError(f"{where}: must be true or false, got {value!r}")
    return value
