"""Label and field selectors, quantities, and fixture validation messages."""

from __future__ import annotations

from typing import Any

import pytest

from kube_standin.cluster import StandinCluster
from kube_standin.errors import ApiError
from kube_standin.fixture import FixtureError
from kube_standin.quantity import parse_quantity
from kube_standin.selectors import labels_match, parse_field_selector, parse_label_selector, selector_from_spec


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("app=web", {"app": "web"}, True),
        ("app==web,tier=db", {"app": "web", "tier": "fe"}, False),
        ("app!=web", {}, True),
        ("env in (prod, staging)", {"env": "staging"}, True),
        ("env notin (prod)", {"env": "prod"}, False),
        ("canary", {"canary": "true"}, True),
        ("!canary", {"canary": "true"}, False),
        ("", {"anything": "x"}, True),
    ],
)
def test_label_selectors(selector: str, labels: dict[str, str], expected: bool) -> None:
    assert labels_match(parse_label_selector(selector), labels) is expected


def test_label_selector_forms_and_errors() -> None:
    spec = {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["dev"]}]}
    assert labels_match(selector_from_spec(spec), {"app": "web", "env": "prod"})
    with pytest.raises(ApiError) as raised:
        parse_label_selector("app=we b!")
    assert raised.value.code == 400
    matches = parse_field_selector("spec.nodeName=n1,status.phase!=Failed", "pods")
    assert matches({"spec": {"nodeName": "n1"}, "status": {"phase": "Running"}})
    assert not matches({"spec": {"nodeName": "n1"}, "status": {"phase": "Failed"}})
    with pytest.raises(ApiError):
        parse_field_selector("spec.nodeName=n1", "deployments")


def test_quantities() -> None:
    assert parse_quantity("250m") == 0.25 and parse_quantity("2") == 2.0 and parse_quantity(1.5) == 1.5
    assert parse_quantity("512Mi") == 512 * 2**20 and parse_quantity("1G") == 1e9 and parse_quantity("1e3") == 1000
    for bad in ("", "lots", "-1", True, None):
        with pytest.raises(ValueError):
            parse_quantity(bad)


@pytest.mark.parametrize(
    ("fixture", "message"),
    [
        ({"nodez": []}, "fixture: unknown key(s) nodez"),
        (
            {"namespaces": [{"name": "a", "deployments": [{"name": "w"}]}]},
            "namespaces[0].deployments[0].containers: required",
        ),
        (
            {
                "namespaces": [
                    {
                        "name": "a",
                        "deployments": [{"name": "w", "replicas": "3", "containers": [{"name": "c", "image": "i"}]}],
                    }
                ]
            },
            "namespaces[0].deployments[0].replicas: must be a non-negative integer",
        ),
        (
            {
                "namespaces": [
                    {
                        "name": "a",
                        "deployments": [
                            {
                                "name": "w",
                                "containers": [{"name": "c", "image": "i", "resources": {"limits": {"cpu": "lots"}}}],
                            }
                        ],
                    }
                ]
            },
            "must be a quantity",
        ),
        (
            {"namespaces": [{"name": "a", "pod_disruption_budgets": [{"name": "p", "selector": {"app": "w"}}]}]},
            "set exactly one of min_available and max_unavailable",
        ),
        ({"nodes": [{"name": "n", "ready": "yes"}]}, "nodes[0].ready: must be true or false"),
        ({"namespaces": [{"name": "a"}, {"name": "a"}]}, "namespace 'a' is defined twice"),
        ({"faults": [{"type": "meteor"}]}, "faults[0].type: unknown fault 'meteor'"),
        (
            {"namespaces": [{"name": "a", "pods": [{"name": "p", "node": "ghost"}]}]},
            "namespaces[0].pods[0].node: no node named 'ghost'",
        ),
    ],
)
def test_fixture_errors_name_the_place(fixture: dict[str, Any], message: str) -> None:
    with pytest.raises(FixtureError) as raised:
        StandinCluster(fixture)
    assert message in str(raised.value)


def test_fixture_from_yaml_text_with_manifests_and_faults() -> None:
    text = """
namespaces:
  - name: web
    deployments:
      - name: api
        replicas: 2
        containers: [{name: api, image: "api:1", resources: {limits: {memory: 128Mi}}}]
manifests:
  - apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata: {name: api, namespace: web}
    spec: {maxUnavailable: 1, selector: {matchLabels: {app: api}}}
faults:
  - {type: oom, namespace: web, deployment: api, memory: 256Mi}
"""
    cluster = StandinCluster(text)
    assert cluster.get("poddisruptionbudgets", "web", "api")["status"]["desiredHealthy"] == 1
    assert cluster.faults_summary()["memory_needs"][0]["deployment"] == "api"
    assert [n["metadata"]["name"] for n in cluster.list("nodes")] == [
        "gke-standin-default-pool-1",
        "gke-standin-default-pool-2",
        "gke-standin-default-pool-3",
    ]
