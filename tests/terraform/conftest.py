"""Parsed Terraform for the wiring tests: python-hcl2 with string quotes stripped.

No provider can be downloaded here, so ``terraform validate``/``plan`` cannot run; the tests
read the HCL itself. python-hcl2 keeps expressions as text (``${var.x}``) and blocks as
lists of dicts; the helpers below hide that shape.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hcl2
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_DIR = REPO_ROOT / "terraform"
MODULES_DIR = TERRAFORM_DIR / "modules"
ENVIRONMENTS_DIR = TERRAFORM_DIR / "environments"
ENVIRONMENT_NAMES = ("dev", "prod")
_META_KEYS = {"__is_block__", "__comments__", "__inline_comments__"}


def clean(value: Any) -> Any:
    """Drop python-hcl2's bookkeeping keys, recursively."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items() if k not in _META_KEYS}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


def expr(value: Any) -> str:
    """The expression inside a whole-value interpolation (``${var.x}`` -> ``var.x``), else the text."""
    text = str(value)
    match = re.fullmatch(r"\$\{(.*)\}", text, flags=re.DOTALL)
    return match.group(1) if match else text


def block(body: dict[str, Any], name: str) -> dict[str, Any]:
    """The single nested block ``name`` of a resource or block body."""
    blocks = body.get(name)
    assert isinstance(blocks, list) and len(blocks) == 1, f"expected exactly one {name} block, got {blocks!r}"
    found: dict[str, Any] = blocks[0]
    return found


@functools.cache
def _parse(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        parsed = hcl2.load(handle, serialization_options=hcl2.SerializationOptions(strip_string_quotes=True))
    cleaned: dict[str, Any] = clean(parsed)
    return cleaned


@dataclass(frozen=True)
class TfDir:
    """One Terraform module or root directory."""

    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    def files(self) -> dict[str, dict[str, Any]]:
        return {p.name: _parse(p) for p in sorted(self.path.glob("*.tf"))}

    def _entries(self, kind: str) -> Iterator[dict[str, Any]]:
        for parsed in self.files().values():
            yield from parsed.get(kind, [])

    def resources(self, rtype: str) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for entry in self._entries("resource"):
            for t, named in entry.items():
                if t == rtype:
                    found.update(named)
        return found

    def all_resources(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for entry in self._entries("resource"):
            for t, named in entry.items():
                for n, body in named.items():
                    yield t, n, body

    def resource(self, rtype: str, name: str) -> dict[str, Any]:
        resources = self.resources(rtype)
        assert name in resources, f"{self.name}: no {rtype}.{name} (has {sorted(resources)})"
        return resources[name]

    def modules(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for entry in self._entries("module"):
            found.update(entry)
        return found

    def module_call(self, name: str) -> dict[str, Any]:
        calls = self.modules()
        assert name in calls, f"{self.name}: no module {name} (has {sorted(calls)})"
        return calls[name]

    def variables(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for entry in self._entries("variable"):
            found.update(entry)
        return found

    def variable_order(self) -> list[str]:
        parsed = self.files().get("variables.tf", {})
        return [name for entry in parsed.get("variable", []) for name in entry]

    def locals(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for entry in self._entries("locals"):
            found.update(entry)
        return found

    def outputs(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for entry in self._entries("output"):
            found.update(entry)
        return found

    def terraform_blocks(self) -> list[dict[str, Any]]:
        return list(self._entries("terraform"))


class Terraform:
    """Entry point the tests get from the ``tf`` fixture."""

    root = TERRAFORM_DIR
    environment_names = ENVIRONMENT_NAMES
    expr = staticmethod(expr)
    block = staticmethod(block)

    def module(self, name: str) -> TfDir:
        path = MODULES_DIR / name
        assert path.is_dir(), f"missing module {name}"
        return TfDir(path)

    def environment(self, name: str) -> TfDir:
        path = ENVIRONMENTS_DIR / name
        assert path.is_dir(), f"missing environment {name}"
        return TfDir(path)

    def modules(self) -> list[TfDir]:
        return [TfDir(p) for p in sorted(MODULES_DIR.iterdir()) if p.is_dir()]

    def all_dirs(self) -> list[TfDir]:
        return self.modules() + [self.environment(e) for e in ENVIRONMENT_NAMES]

    def tfvars(self, environment: str) -> dict[str, Any]:
        return _parse(ENVIRONMENTS_DIR / environment / "terraform.tfvars")


@pytest.fixture(scope="session")
def tf() -> Terraform:
    return Terraform()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT
