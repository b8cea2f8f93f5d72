"""Arbitrary input is answered with a clear 4xx Status or a FixtureError, never a crash."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kube_standin.cluster import StandinCluster
from kube_standin.errors import ApiError
from kube_standin.fixture import FixtureError
from kube_standin.selectors import parse_field_selector, parse_label_selector

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=6),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)
field_names = st.sampled_from(
    [
        "metadata",
        "spec",
        "replicas",
        "template",
        "containers",
        "name",
        "image",
        "op",
        "path",
        "value",
        "selector",
        "matchLabels",
        "labels",
        "status",
        "kind",
    ]
)
shaped = st.recursive(
    json_values,
    lambda children: st.dictionaries(field_names, children, max_size=4) | st.lists(children, max_size=3),
    max_leaves=16,
)
ENDPOINTS = [
    ("PATCH", "/apis/apps/v1/namespaces/shop/deployments/web", "application/strategic-merge-patch+json"),
    ("PATCH", "/apis/apps/v1/namespaces/shop/deployments/web", "application/merge-patch+json"),
    ("PATCH", "/apis/apps/v1/namespaces/shop/deployments/web", "application/json-patch+json"),
    ("PATCH", "/apis/apps/v1/namespaces/shop/deployments/worker/scale", "application/merge-patch+json"),
    ("PUT", "/apis/apps/v1/namespaces/shop/deployments/reports", "application/json"),
    ("POST", "/apis/apps/v1/namespaces/shop/deployments", "application/json"),
    ("POST", "/api/v1/namespaces/shop/pods/legacy-cron-5k2x9/eviction", "application/json"),
    ("PATCH", "/api/v1/nodes/gke-shop-batch-pool-3c4d-y1", "application/strategic-merge-patch+json"),
    ("PATCH", "/apis/apps/v1/namespaces/shop/deployments/web/status", "application/merge-patch+json"),
    ("PATCH", "/api/v1/namespaces/shop/pods/legacy-cron-5k2x9/status", "application/merge-patch+json"),
    ("PATCH", "/api/v1/namespaces/shop/pods/legacy-cron-5k2x9", "application/strategic-merge-patch+json"),
    ("PUT", "/api/v1/nodes/gke-shop-default-pool-1a2b-x1", "application/json"),
    ("POST", "/api/v1/namespaces/shop/pods", "application/json"),
    ("POST", "/api/v1/namespaces/shop/events", "application/json"),
    ("POST", "/apis/batch/v1/namespaces/shop/jobs", "application/json"),
    ("POST", "/apis/policy/v1/namespaces/shop/poddisruptionbudgets", "application/json"),
    ("POST", "/api/v1/namespaces", "application/json"),
    ("DELETE", "/apis/batch/v1/namespaces/shop/jobs/nightly-export", "application/json"),
    ("POST", "/standin/v1/faults/oom", "application/json"),
    ("POST", "/standin/v1/faults/bad-rollout", "application/json"),
]


def send(cluster: StandinCluster, method: str, path: str, content_type: str, body: Any) -> tuple[int, Any]:
    request = urllib.request.Request(cluster.url + path, data=json.dumps(body).encode(), method=method)
    request.add_header("Authorization", f"Bearer {cluster.token}")
    request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(endpoint=st.sampled_from(ENDPOINTS), body=shaped)
def test_random_bodies_get_a_clear_answer(cluster: StandinCluster, endpoint: tuple[str, str, str], body: Any) -> None:
    method, path, content_type = endpoint
    status, answer = send(cluster, method, path, content_type, body)
    assert status in (200, 201, 400, 404, 409, 415, 422, 429), (status, answer)
    if status >= 400 and path.startswith("/standin/"):
        assert answer["error"]
    elif status >= 400:
        assert answer["kind"] == "Status" and answer["code"] == status and answer["message"]
    cluster.sync()  # whatever was accepted, the controllers can still reconcile it
    assert cluster.usage()["pods"]


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=30))
def test_selectors_parse_or_answer_400(text: str) -> None:
    for parse in (parse_label_selector, lambda t: parse_field_selector(t, "pods")):
        try:
            parse(text)
        except ApiError as exc:
            assert exc.code == 400 and exc.message


@settings(max_examples=60, deadline=None)
@given(fixture=st.dictionaries(st.sampled_from(["nodes", "namespaces", "manifests", "faults"]), shaped, max_size=3))
def test_fixtures_load_or_raise_fixture_error(fixture: dict[str, Any]) -> None:
    try:
        StandinCluster(fixture)
    except FixtureError as exc:
        assert str(exc)


def test_non_json_body_is_a_400_status(cluster: StandinCluster) -> None:
    request = urllib.request.Request(
        cluster.url + "/apis/apps/v1/namespaces/shop/deployments/web", data=b"\xff\x00", method="PATCH"
    )
    request.add_header("Authorization", f"Bearer {cluster.token}")
    request.add_header("Content-Type", "application/merge-patch+json")
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=10)
    assert raised.value.code == 400 and json.loads(raised.value.read())["reason"] == "BadRequest"
