"""The healer and a metrics reader hitting the stand-in at the same time."""

from __future__ import annotations

import threading
import urllib.request
from typing import Any

from kubernetes import client

from kube_standin.cluster import StandinCluster

RESTARTS = 4


def test_concurrent_restarts_scales_and_usage_reads_stay_consistent(cluster: StandinCluster, kubectl: Any) -> None:
    errors: list[BaseException] = []
    usage_reads: list[int] = []

    def api() -> client.AppsV1Api:
        configuration = client.Configuration(host=cluster.url)
        configuration.api_key = {"authorization": f"Bearer {cluster.token}"}
        return client.AppsV1Api(client.ApiClient(configuration))

    def restarter(name: str) -> None:
        apps = api()
        try:
            for index in range(RESTARTS):
                body = {"spec": {"template": {"metadata": {"annotations": {"restart": str(index)}}}}}
                apps.patch_namespaced_deployment(name, "shop", body)
        except BaseException as exc:
            errors.append(exc)

    def scaler() -> None:
        apps = api()
        try:
            for replicas in (3, 1, 4, 2):
                apps.patch_namespaced_deployment_scale("worker", "shop", {"spec": {"replicas": replicas}})
        except BaseException as exc:
            errors.append(exc)

    def metrics_reader() -> None:
        request = urllib.request.Request(cluster.url + "/standin/v1/pods/usage")
        request.add_header("Authorization", f"Bearer {cluster.token}")
        try:
            for _ in range(15):
                with urllib.request.urlopen(request, timeout=10) as answer:
                    usage_reads.append(answer.status)
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=restarter, args=("web",)),
        threading.Thread(target=restarter, args=("reports",)),
        threading.Thread(target=scaler),
        threading.Thread(target=metrics_reader),
        threading.Thread(target=metrics_reader),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and usage_reads == [200] * 30
    cluster.wait_for(lambda: kubectl.rolled_out("shop", "web") and kubectl.rolled_out("shop", "worker"))
    web = cluster.get("deployments", "shop", "web")
    assert web["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == str(2 + RESTARTS)
    assert web["spec"]["template"]["metadata"]["annotations"]["restart"] == str(RESTARTS - 1)
    assert web["metadata"]["generation"] == 1 + RESTARTS + 1  # fixture rollout + restarts
    reports = cluster.get("deployments", "shop", "reports")
    assert reports["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"  # paused: no rollout
    assert len(kubectl.running_pod_names("shop", "app=worker")) == 2
    owned = [rs for rs in cluster.list("replicasets", "shop") if rs["metadata"]["name"].startswith("web-")]
    assert sum(rs["spec"]["replicas"] for rs in owned) == 3
