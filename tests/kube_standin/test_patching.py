"""JSON Patch, merge patch and strategic merge patch semantics."""

from __future__ import annotations

from typing import Any

import pytest

from kube_standin.errors import ApiError
from kube_standin.patching import apply_json_patch, apply_merge_patch, apply_patch, apply_strategic_merge_patch

DEPLOYMENT: dict[str, Any] = {
    "metadata": {"name": "web", "labels": {"app": "web", "tier": "frontend"}},
    "spec": {
        "replicas": 2,
        "template": {
            "spec": {
                "containers": [
                    {
                        "name": "web",
                        "image": "web:1",
                        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                        "resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
                    },
                    {"name": "proxy", "image": "envoy:1"},
                ],
                "tolerations": [{"key": "x", "operator": "Exists"}],
            }
        },
    },
}


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return doc["spec"]["template"]["spec"]["containers"]  # type: ignore[no-any-return]


def test_strategic_merge_merges_containers_and_env_by_name() -> None:
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "env": [{"name": "B", "value": "20"}, {"name": "C", "value": "3"}],
                            "resources": {"limits": {"memory": "1Gi"}},
                        },
                        {"name": "debug", "image": "busybox"},
                    ]
                }
            }
        }
    }
    result = apply_strategic_merge_patch(DEPLOYMENT, patch)
    assert [c["name"] for c in containers(result)] == ["web", "proxy", "debug"]
    web = containers(result)[0]
    assert web["image"] == "web:1"
    assert web["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "20"}, {"name": "C", "value": "3"}]
    assert web["resources"]["limits"] == {"cpu": "500m", "memory": "1Gi"}
    assert containers(DEPLOYMENT)[0]["env"][1]["value"] == "2"  # the input is not modified


def test_strategic_merge_directives_and_null_deletes() -> None:
    patch = {
        "metadata": {"labels": {"tier": None}},
        "spec": {
            "template": {
                "spec": {
                    "containers": [{"name": "proxy", "$patch": "delete"}],
                    "$setElementOrder/containers": [{"name": "web"}],
                    "tolerations": [{"key": "y", "operator": "Exists"}],
                }
            }
        },
    }
    result = apply_strategic_merge_patch(DEPLOYMENT, patch)
    assert result["metadata"]["labels"] == {"app": "web"}
    assert [c["name"] for c in containers(result)] == ["web"]
    assert result["spec"]["template"]["spec"]["tolerations"] == [{"key": "y", "operator": "Exists"}]  # no merge key
    replaced = apply_strategic_merge_patch(
        DEPLOYMENT, {"spec": {"template": {"spec": {"$patch": "replace", "containers": []}}}}
    )
    assert replaced["spec"]["template"]["spec"] == {"containers": []}
    with pytest.raises(ApiError) as raised:
        apply_strategic_merge_patch(DEPLOYMENT, {"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}})
    assert raised.value.code == 422


def test_merge_patch_replaces_lists() -> None:
    result = apply_merge_patch(DEPLOYMENT, {"spec": {"template": {"spec": {"containers": [{"name": "only"}]}}}})
    assert containers(result) == [{"name": "only"}]
    assert apply_merge_patch(DEPLOYMENT, {"metadata": {"labels": None}})["metadata"] == {"name": "web"}


def test_json_patch_operations() -> None:
    result = apply_json_patch(
        DEPLOYMENT,
        [
            {"op": "replace", "path": "/spec/replicas", "value": 5},
            {"op": "add", "path": "/metadata/labels/a~1b", "value": "slash"},
            {"op": "add", "path": "/spec/template/spec/containers/-", "value": {"name": "z", "image": "z"}},
            {"op": "remove", "path": "/spec/template/spec/containers/1"},
            {"op": "copy", "from": "/metadata/name", "path": "/metadata/generateName"},
            {"op": "move", "from": "/metadata/generateName", "path": "/metadata/alias"},
            {"op": "test", "path": "/spec/replicas", "value": 5},
        ],
    )
    assert result["spec"]["replicas"] == 5
    assert result["metadata"]["labels"]["a/b"] == "slash" and result["metadata"]["alias"] == "web"
    assert [c["name"] for c in containers(result)] == ["web", "z"]
    for bad, code in (
        ([{"op": "replace", "path": "/spec/missing", "value": 1}], 422),
        ([{"op": "remove", "path": "/spec/template/spec/containers/9"}], 422),
        ([{"op": "test", "path": "/spec/replicas", "value": 3}], 422),
        ([{"op": "jump", "path": "/spec"}], 400),
        ({"op": "add"}, 400),
    ):
        with pytest.raises(ApiError) as raised:
            apply_json_patch(DEPLOYMENT, bad)
        assert raised.value.code == code, bad


def test_content_type_dispatch() -> None:
    body = {"spec": {"replicas": 9}}
    assert apply_patch("application/merge-patch+json; charset=utf-8", DEPLOYMENT, body)["spec"]["replicas"] == 9
    with pytest.raises(ApiError) as raised:
        apply_patch("application/apply-patch+yaml", DEPLOYMENT, body)
    assert raised.value.code == 415
