"""/version, /api, /apis and the per group-version resource lists (legacy discovery)."""

from __future__ import annotations

from typing import Any

from kube_standin.resources import GROUP_VERSIONS, RESOURCE_TYPES

Obj = dict[str, Any]
SERVER_VERSION = {"major": "1", "minor": "30", "gitVersion": "v1.30.5-standin"}


def version_info() -> Obj:
    return {
        **SERVER_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2024-09-01T00:00:00Z",
        "goVersion": "go1.22.6",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


def core_versions(server_address: str) -> Obj:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def _group(group: str) -> Obj:
    versions = [
        {"groupVersion": f"{group}/{version}", "version": version} for g, version in _all_group_versions() if g == group
    ]
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": group,
        "versions": versions,
        "preferredVersion": versions[0],
    }


METRICS_GROUP_VERSION = ("metrics.k8s.io", "v1beta1")


def _all_group_versions() -> tuple[tuple[str, str], ...]:
    return (*GROUP_VERSIONS, METRICS_GROUP_VERSION)


def group_list() -> Obj:
    groups = [g for g in dict.fromkeys(g for g, _ in _all_group_versions()) if g]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [_group(g) for g in groups]}


def group(name: str) -> Obj | None:
    return _group(name) if any(g == name for g, _ in _all_group_versions() if g) else None


def resource_list(group_name: str, version: str) -> Obj | None:
    if (group_name, version) not in GROUP_VERSIONS:
        return None
    resources: list[Obj] = []
    for rt in RESOURCE_TYPES:
        if (rt.group, rt.version) != (group_name, version):
            continue
        entry: Obj = {
            "name": rt.plural,
            "singularName": rt.singular,
            "namespaced": rt.namespaced,
            "kind": rt.kind,
            "verbs": list(rt.verbs),
        }
        if rt.short_names:
            entry["shortNames"] = list(rt.short_names)
        resources.append(entry)
        for sub, kind, verbs in rt.subresources:
            sub_entry: Obj = {
                "name": f"{rt.plural}/{sub}",
                "singularName": "",
                "namespaced": rt.namespaced,
                "kind": kind,
                "verbs": list(verbs),
            }
            if sub == "scale":
                sub_entry.update(group="autoscaling", version="v1")
            if sub == "eviction":
                sub_entry.update(group="policy", version="v1")
            resources.append(sub_entry)
    group_version = f"{group_name}/{version}" if group_name else version
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }
