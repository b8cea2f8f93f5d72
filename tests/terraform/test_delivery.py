"""Delivery: terraform fmt, checkov, the service images and the Cloud Build pipeline."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKER_DIR = REPO_ROOT / "docker"
CHECKOV = REPO_ROOT / ".venv-checkov" / "bin" / "checkov"

SERVICES = {
    # image: (pip extra, gunicorn app)
    "healer": ("healer", "self_healing_service.main:app"),
    "chatops": ("chatops", "chatops_service.main:app"),
}


@pytest.mark.terraform
def test_terraform_fmt_is_clean() -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("the terraform binary is not installed; `terraform fmt -check -recursive terraform` not run")
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff", "terraform"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"terraform fmt would change:\n{result.stdout}{result.stderr}"


@pytest.mark.checkov
def test_checkov_reports_no_failed_check() -> None:
    if not CHECKOV.exists():
        pytest.skip("checkov's own environment (.venv-checkov) is absent; `make checkov-env` creates it")
    result = subprocess.run(
        ["bash", "scripts/checkov.sh"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    counts = re.search(r"Passed checks: (\d+), Failed checks: (\d+), Skipped checks: (\d+)", output)
    assert counts is not None, output
    passed, failed, _skipped = (int(n) for n in counts.groups())
    assert failed == 0 and passed > 50, output


def test_every_checkov_skip_is_inline_with_a_reason() -> None:
    skips = []
    for path in (REPO_ROOT / "terraform").rglob("*.tf"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if "checkov:skip" in line:
                skips.append(line)
                assert re.search(r"checkov:skip=CKV2?_[A-Z0-9]+_\d+:\s*\S.{20,}", line), (
                    f"{path}: skip without a reason"
                )
    config = (REPO_ROOT / ".checkov.yaml").read_text(encoding="utf-8")
    assert "skip-check" not in config, "skips belong inline, next to the resource, with their reason"
    assert skips, "expected the documented inline skips"


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_service_images_are_slim_non_root_and_install_only_their_extra(service: str) -> None:
    extra, app = SERVICES[service]
    text = (DOCKER_DIR / service / "Dockerfile").read_text(encoding="utf-8")
    bases = re.findall(r"^FROM (\S+)", text, flags=re.MULTILINE)
    assert bases and all(b == "${PYTHON_IMAGE}" for b in bases)
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", text, flags=re.MULTILINE)
    installs = re.findall(r'pip install "\.\[([a-z,]+)\]"', text)
    assert installs == [extra]
    users = re.findall(r"^USER (\S+)", text, flags=re.MULTILINE)
    assert users and not users[-1].startswith(("root", "0"))
    assert text.rstrip().splitlines()[-1] == f'CMD ["gunicorn", "{app}"]'
    assert "--threads=8" in text and "--timeout=0" in text


def _threads(service: str) -> int:
    found = re.search(r"--threads=(\d+)", (DOCKER_DIR / service / "Dockerfile").read_text(encoding="utf-8"))
    assert found is not None, f"{service}: no gunicorn --threads"
    return int(found.group(1))


def test_gunicorn_threads_match_cloud_run_concurrency(tf: Any) -> None:
    from_docker = {s: _threads(s) for s in SERVICES}
    calls = tf.module("self_healing").modules()
    image_of = {"healer": "healer", "chatops_notify": "chatops", "chat_interactions": "chatops"}
    for name, image in image_of.items():
        assert calls[name]["concurrency"] == from_docker[image], name


def test_dataflow_image_launches_the_pipeline_as_a_flex_template() -> None:
    text = (DOCKER_DIR / "dataflow" / "Dockerfile").read_text(encoding="utf-8")
    assert "python_template_launcher" in text
    assert "ENV FLEX_TEMPLATE_PYTHON_PY_FILE=/template/launch.py" in text
    assert 'pip install ".[dataflow]"' in text
    assert 'ENTRYPOINT ["/opt/apache/beam/boot"]' in text
    launch = (DOCKER_DIR / "dataflow" / "launch.py").read_text(encoding="utf-8")
    assert 'PIPELINE_MODULE = "dataflow.features_pipeline"' in launch
    assert (REPO_ROOT / "dataflow" / "features_pipeline.py").is_file()


def _build() -> dict[str, object]:
    loaded: dict[str, object] = yaml.safe_load((REPO_ROOT / "cloudbuild.yaml").read_text(encoding="utf-8"))
    return loaded


def test_cloud_build_checks_then_builds_then_applies_the_named_environment() -> None:
    build = _build()
    steps = build["steps"]
    assert isinstance(steps, list)
    ids = [s["id"] for s in steps]
    for needed in ("lint-and-test", "terraform-fmt", "checkov", "build-images", "push-images", "terraform-apply"):
        assert needed in ids
    assert ids.index("terraform-apply") == len(ids) - 1
    by_id = {s["id"]: s for s in steps}
    assert by_id["terraform-fmt"]["args"] == ["fmt", "-check", "-recursive", "terraform"]
    assert by_id["checkov"]["args"] == ["scripts/checkov.sh"]
    assert set(by_id["build-images"]["waitFor"]) == {"lint-and-test", "terraform-fmt", "checkov"}
    script = "\n".join(by_id["build-images"]["args"]) + "\n".join(by_id["push-images"]["args"])
    assert ":${COMMIT_SHA}" in script and "docker push" in script and "RepoDigests" in script
    for image in ("healer", "chatops", "dataflow"):
        assert (DOCKER_DIR / image / "Dockerfile").is_file()
    apply = by_id["terraform-apply"]
    assert apply["dir"] == "terraform/environments/${_ENV}"
    apply_script = "\n".join(apply["args"])
    assert "terraform apply" in apply_script
    for variable in ("healer_image", "chatops_image", "dataflow_image"):
        assert f'-var "{variable}=$$(cat /workspace/' in apply_script
    substitutions = build["substitutions"]
    assert isinstance(substitutions, dict) and substitutions["_ENV"] == "dev"
    assert substitutions["_IMAGE_PREFIX"] == "${_REGION}-docker.pkg.dev/${PROJECT_ID}/${_REPOSITORY}"


def test_every_variable_cloud_build_passes_exists_in_each_environment(tf: Any) -> None:
    for env in tf.environment_names:
        root = tf.environment(env)
        variables = root.variables()
        for name in ("healer_image", "chatops_image", "dataflow_image", "training_pipeline_spec_file"):
            assert name in variables, f"{env} lacks variable {name} that Cloud Build passes"
