"""The advice command, and its patches applied by kubectl's own strategic-merge code (--local)."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from fleet_insight.advise import main
from fleet_insight.quantity import parse_cpu, parse_memory
from fleet_insight.synthetic import SyntheticHistory, write_specs

KUBECTL = shutil.which("kubectl")


def _args(db: Path, history: SyntheticHistory, deployments: Path, *extra: str) -> list[str]:
    return [
        "--duckdb",
        str(db),
        "--start",
        history.start.isoformat(),
        "--end",
        history.end.isoformat(),
        "--deployments",
        str(deployments),
        *extra,
    ]


def test_json_yaml_and_table_agree(
    tmp_path: Path, fleet_db: Path, history: SyntheticHistory, capsys: pytest.CaptureFixture[str]
) -> None:
    deployments, _ = write_specs(tmp_path, history)
    assert main(_args(fleet_db, history, deployments, "--format", "json")) == 0
    docs = json.loads(capsys.readouterr().out)
    assert main(_args(fleet_db, history, deployments, "--format", "yaml")) == 0
    assert yaml.safe_load(capsys.readouterr().out) == docs
    assert {d["deployment"] for d in docs} == {"frontend", "cart", "checkout", "reporter", "encoder"}
    cart = next(d for d in docs if d["deployment"] == "cart")
    memory_limit = next(r for r in cart["rows"] if r["resource"] == "memory_limit")
    assert parse_memory(memory_limit["recommended"]) > parse_memory(memory_limit["current"]) == parse_memory("256Mi")
    assert cart["patch"]["spec"]["template"]["spec"]["containers"][0]["name"] == "app"
    assert main(_args(fleet_db, history, deployments, "--format", "table")) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:4] == ["NAMESPACE", "DEPLOYMENT", "CONTAINER", "RESOURCE"]
    assert len(table) == 1 + sum(len(d["rows"]) for d in docs)


def test_changed_only_and_errors(
    tmp_path: Path, fleet_db: Path, history: SyntheticHistory, capsys: pytest.CaptureFixture[str]
) -> None:
    deployments, _ = write_specs(tmp_path, history)
    assert main(_args(fleet_db, history, deployments, "--format", "json", "--changed-only")) == 0
    assert all(d["changed"] for d in json.loads(capsys.readouterr().out))
    assert main(_args(fleet_db, history, tmp_path / "missing.json")) == 1
    assert "--deployments: file not found" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text(json.dumps({"items": [{"kind": "Deployment", "spec": {}}]}))
    assert main(_args(fleet_db, history, tmp_path / "bad.json")) == 1
    assert "metadata.name" in capsys.readouterr().err


@pytest.mark.skipif(KUBECTL is None, reason="no kubectl binary on PATH")
def test_kubectl_applies_every_patch_locally(
    tmp_path: Path, fleet_db: Path, history: SyntheticHistory, capsys: pytest.CaptureFixture[str]
) -> None:
    """kubectl's strategic merge (no server: --local) accepts each patch and yields the advised resources."""
    assert KUBECTL is not None
    deployments, _ = write_specs(tmp_path, history)
    assert main(_args(fleet_db, history, deployments, "--format", "json", "--changed-only")) == 0
    docs = json.loads(capsys.readouterr().out)
    assert docs
    by_name = {d["metadata"]["name"]: d for d in history.deployments}
    for doc in docs:
        argv = shlex.split(doc["kubectl"])
        body = argv[argv.index("-p") + 1]
        assert argv[argv.index("--type") + 1] == "strategic"
        source = tmp_path / f"{doc['deployment']}.json"
        source.write_text(json.dumps(by_name[doc["deployment"]]))
        result = subprocess.run(
            [KUBECTL, "patch", "-f", str(source), "--local", "--type", "strategic", "-p", body, "-o", "json"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        patched = json.loads(result.stdout)
        (container,) = patched["spec"]["template"]["spec"]["containers"]
        assert container["image"] == by_name[doc["deployment"]]["spec"]["template"]["spec"]["containers"][0]["image"]
        resources = container["resources"]
        for row in doc["rows"]:
            kind, _, field = row["resource"].partition("_")
            section = resources["requests" if field == "request" else "limits"]
            parse = parse_cpu if kind == "cpu" else parse_memory
            assert parse(section[kind]) == pytest.approx(parse(row["recommended"])), (doc["deployment"], row)
        assert parse_memory(resources["requests"]["memory"]) <= parse_memory(resources["limits"]["memory"])
        assert parse_cpu(resources["requests"]["cpu"]) <= parse_cpu(resources["limits"]["cpu"])
