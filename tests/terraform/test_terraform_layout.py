"""Layout and conventions: one module per concern, typed and described variables, thin roots."""

from __future__ import annotations

import re
from typing import Any

import pytest

MODULE_FILES = ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md")
CONCERNS = (
    "alerting",
    "push_delivery",
    "cloud_run_service",
    "gke_access",
    "firestore_database",
    "gcs_bucket",
    "secrets",
    "ml_platform",
    "self_healing",
    "dashboard",
)
PROVIDER_PIN = re.compile(r"^>= \d+(\.\d+)*, < \d+(\.\d+)*$")


def test_every_concern_is_a_module_with_the_standard_files(tf: Any) -> None:
    names = {m.name for m in tf.modules()}
    assert set(CONCERNS) <= names
    for module in tf.modules():
        missing = [f for f in MODULE_FILES if not (module.path / f).is_file()]
        assert not missing, f"module {module.name} lacks {missing}"
        readme = (module.path / "README.md").read_text(encoding="utf-8")
        assert readme.startswith(f"# {module.name}\n"), f"{module.name}/README.md should start with its title"


def test_every_variable_has_a_type_and_a_description(tf: Any) -> None:
    checked = 0
    for directory in tf.all_dirs():
        for name, body in directory.variables().items():
            where = f"{directory.path.relative_to(tf.root)}: variable {name}"
            assert body.get("type"), f"{where} has no type"
            assert str(body.get("description", "")).strip(), f"{where} has no description"
            assert body["type"] not in ("any", "${any}"), f"{where} is typed any"
            checked += 1
    assert checked > 50


def test_project_id_is_the_first_variable_everywhere(tf: Any) -> None:
    for directory in tf.all_dirs():
        order = directory.variable_order()
        assert order, f"{directory.name} declares no variables in variables.tf"
        assert order[0] == "project_id", f"{directory.name}: first variable is {order[0]}"


@pytest.mark.parametrize(
    ("module", "variable"),
    [
        ("cloud_run_service", "ingress"),
        ("gke_access", "authorization"),
        ("self_healing", "environment"),
        ("self_healing", "kubernetes_authorization"),
        ("self_healing", "ingress"),
        ("push_delivery", "max_delivery_attempts"),
        ("push_delivery", "ack_deadline_seconds"),
        ("alerting", "alert_rules_file"),
        ("cloud_run_service", "prometheus_sidecar"),
        ("self_healing", "metrics_sidecar"),
        ("dashboard", "alignment_period_seconds"),
        ("dashboard", "alert_policy_ids"),
    ],
)
def test_fixed_choices_and_ranges_are_validated(tf: Any, module: str, variable: str) -> None:
    body = tf.module(module).variables()[variable]
    validations = body.get("validation", [])
    assert validations, f"{module}.{variable} has no validation block"
    for v in validations:
        assert v.get("condition") and v.get("error_message")


def test_both_environments_call_the_same_module_with_the_same_arguments(tf: Any) -> None:
    calls = {e: tf.environment(e).modules() for e in tf.environment_names}
    for env, modules in calls.items():
        assert list(modules) == ["self_healing"], f"{env} root must make exactly one module call"
        assert modules["self_healing"]["source"] == "../../modules/self_healing"
    dev, prod = (calls[e]["self_healing"] for e in tf.environment_names)
    assert set(dev) == set(prod)
    assert dev["environment"] == "dev" and prod["environment"] == "prod"
    assert dev["name_prefix"] != prod["name_prefix"]


def test_roots_are_thin_and_have_a_gcs_backend_per_environment(tf: Any) -> None:
    prefixes = set()
    for env in tf.environment_names:
        root = tf.environment(env)
        files = {p.name for p in root.path.iterdir()}
        assert {"backend.tf", "main.tf", "variables.tf", "versions.tf", "terraform.tfvars"} <= files
        assert not list(root.all_resources()), f"{env} root declares resources; they belong in modules"
        backends = [b["backend"] for b in root.terraform_blocks() if "backend" in b]
        assert len(backends) == 1
        gcs = backends[0][0]["gcs"]
        assert env in gcs["prefix"]
        prefixes.add(gcs["prefix"])
        # Every root variable is set in terraform.tfvars or has a default or comes from the build.
        tfvars = tf.tfvars(env)
        for name, body in root.variables().items():
            assert name in tfvars or "default" in body, f"{env}: {name} has neither a value nor a default"
    assert len(prefixes) == len(tf.environment_names)


def test_provider_ranges_are_pinned_and_agree(tf: Any) -> None:
    seen: dict[str, set[str]] = {}
    for directory in tf.all_dirs():
        blocks = directory.terraform_blocks()
        assert blocks, f"{directory.name} has no terraform block"
        for b in blocks:
            if "required_version" in b:
                assert b["required_version"].startswith(">= ")
            for providers in b.get("required_providers", []):
                for name, spec in providers.items():
                    assert PROVIDER_PIN.match(spec["version"]), f"{directory.name}: {name} {spec['version']}"
                    seen.setdefault(name, set()).add(spec["version"])
    assert {"google", "google-beta", "kubernetes"} <= set(seen)
    for name, versions in seen.items():
        assert len(versions) == 1, f"{name} pinned differently across modules: {versions}"


def test_prod_is_protected_and_starts_in_dry_run(tf: Any) -> None:
    prod = tf.tfvars("prod")
    assert prod["deletion_protection"] is True
    assert prod["healer_dry_run"] is True


def test_readme_explains_running_terraform_where_the_registry_is_reachable(tf: Any) -> None:
    readme = (tf.root / "README.md").read_text(encoding="utf-8")
    for command in ("terraform init", "terraform validate", "terraform plan", "terraform fmt -check -recursive"):
        assert command in readme, command
    assert "allUsers" in readme and "Slack" in readme, "the README must say why one service is public"
