"""The /standin/v1 control API over HTTP, and the `python -m kube_standin` command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config

from kube_standin.__main__ import parse_options
from kube_standin.cluster import StandinCluster
from kube_standin.controller import SimulationSettings

SHOP = Path(__file__).parent / "data" / "shop.yaml"
TOKEN = "test-token"


def call(cluster_url: str, method: str, path: str, body: Any = None, token: str | None = TOKEN) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(cluster_url + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_inject_faults_and_read_usage_over_http(cluster: StandinCluster, core: client.CoreV1Api) -> None:
    status, hog = call(cluster.url, "POST", "/standin/v1/faults/cpu-hog", {"namespace": "shop", "deployment": "web"})
    assert status == 200 and hog["fault"] == "cpu-hog"
    status, crash = call(
        cluster.url,
        "POST",
        "/standin/v1/faults/crash-loop",
        {"namespace": "shop", "deployment": "worker", "container": "worker"},
    )
    assert status == 200 and crash["container"] == "worker"
    status, _ = call(cluster.url, "POST", "/standin/v1/faults/node-not-ready", {"node": "gke-shop-batch-pool-3c4d-y1"})
    assert status == 200
    status, _job = call(cluster.url, "POST", "/standin/v1/faults/failed-job", {"namespace": "shop", "name": "etl"})
    assert status == 200 and client.BatchV1Api(core.api_client).read_namespaced_job("etl", "shop").status.failed == 1
    status, usage = call(cluster.url, "GET", "/standin/v1/pods/usage")
    assert status == 200 and usage["timestamp"].endswith("Z")
    by_pod = {p["pod"]: p for p in usage["pods"]}
    assert by_pod[hog["pod"]]["containers"][0]["faults"] == ["cpu-hog"]
    assert by_pod[hog["pod"]]["deployment"] == "web" and by_pod[hog["pod"]]["node"]
    crashing = {c["name"]: c for c in by_pod[crash["pod"]]["containers"]}
    assert crashing["worker"]["faults"] == ["crash-loop"] and crashing["worker"]["restart_count"] >= 1
    assert crashing["sidecar"]["faults"] == [] and crashing["sidecar"]["ready"] is True
    status, faults = call(cluster.url, "GET", "/standin/v1/faults")
    assert [f["pod"] for f in faults["cpu_hog"]] == [hog["pod"]]
    assert faults["not_ready_nodes"] == ["gke-shop-batch-pool-3c4d-y1"]
    status, requests = call(cluster.url, "GET", "/standin/v1/requests")
    assert status == 200 and all(not r["path"].startswith("/standin") for r in requests["requests"])


@pytest.mark.parametrize(
    ("path", "body", "code", "fragment"),
    [
        ("/standin/v1/faults/cpu-hog", {"deployment": "web"}, 400, "'namespace' is required"),
        ("/standin/v1/faults/cpu-hog", {"namespace": "shop", "pods": "x"}, 400, "unknown field"),
        ("/standin/v1/faults/oom", {"namespace": "shop", "deployment": "web", "memory": "1Ki"}, 400, "does not exceed"),
        ("/standin/v1/faults/oom", {"namespace": "shop", "deployment": "reports"}, 400, "no memory limit"),
        ("/standin/v1/faults/bad-rollout", {"namespace": "shop", "deployment": "nope"}, 404, "not found"),
        ("/standin/v1/faults/evicted-pods", {"namespace": "shop", "count": True}, 400, "wrong type"),
        ("/standin/v1/faults/meteor", {}, 404, "unknown fault"),
    ],
)
def test_control_api_rejects_malformed_requests(
    cluster: StandinCluster, path: str, body: Any, code: int, fragment: str
) -> None:
    status, answer = call(cluster.url, "POST", path, body)
    assert status == code and fragment in answer["error"]


def test_control_api_requires_the_token(cluster: StandinCluster) -> None:
    status, answer = call(cluster.url, "GET", "/standin/v1/pods/usage", token=None)
    assert status == 401 and "token" in answer["error"]


def test_command_line_serves_until_sigterm(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kube_standin",
            "--port",
            "0",
            "--fixture",
            str(SHOP),
            "--kubeconfig-out",
            str(kubeconfig),
            "--context",
            "local",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("kube-standin serving http://127.0.0.1:"), line
        api = config.new_client_from_config(config_file=str(kubeconfig))
        with api:
            assert len(client.CoreV1Api(api).list_namespaced_pod("shop", label_selector="app=web").items) == 3
    finally:
        process.send_signal(signal.SIGTERM)
        _stdout, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr


def test_command_line_rejects_a_bad_fixture(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "namespaces:\n  - name: shop\n    deployments:\n      - name: web\n        replicas: -1\n"
        "        containers: [{name: web, image: nginx}]\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "kube_standin", "--fixture", str(broken)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert "namespaces[0].deployments[0].replicas: must be a non-negative integer" in done.stderr


def test_command_line_options_reach_the_settings(tmp_path: Path) -> None:
    options = parse_options(
        [
            "--port",
            "8123",
            "--fixture",
            str(SHOP),
            "--kubeconfig-out",
            str(tmp_path / "k"),
            "--context",
            "c",
            "--namespace",
            "shop",
            "--token",
            "t",
            "--seed",
            "3",
            "--ready-delay",
            "0",
            "--restart-interval",
            "2",
            "--crash-backoff",
            "exponential",
            "--termination-seconds",
            "1.5",
            "--not-ready-eviction-seconds",
            "60",
            "--schedule-by-requests",
        ]
    )
    assert (options.port, options.context, options.namespace, options.token, options.seed) == (
        8123,
        "c",
        "shop",
        "t",
        3,
    )
    assert options.settings == SimulationSettings(
        ready_delay_seconds=0,
        crash_restart_interval_seconds=2,
        crash_backoff="exponential",
        pod_termination_seconds=1.5,
        not_ready_eviction_seconds=60,
        schedule_by_requests=True,
    )
    for bad in (
        ["--port", "70000"],
        ["--ready-delay", "-1"],
        ["--restart-interval", "0"],
        ["--fixture", str(tmp_path / "missing.yaml")],
        ["--crash-backoff", "random"],
    ):
        with pytest.raises(SystemExit) as raised:
            parse_options(bad)
        assert raised.value.code == 2, bad
