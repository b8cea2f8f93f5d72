"""Deletion with ownerReference cascading, as the garbage collector does it."""

from __future__ import annotations

from typing import Any

from kube_standin.resources import RESOURCE_TYPES
from kube_standin.store import Store, clone

Obj = dict[str, Any]
PROPAGATION_POLICIES = ("Orphan", "Background", "Foreground")


def default_propagation(resource: str) -> str:
    # batch/v1 Jobs still default to orphaning their pods when deleted through the API.
    return "Orphan" if resource == "jobs" else "Background"


def delete_with_policy(store: Store, resource: str, obj: Obj, policy: str) -> Obj | None:
    """Remove obj; cascade to dependents (Background/Foreground) or strip their ownerReferences (Orphan)."""
    meta = obj["metadata"]
    namespace, uid = meta.get("namespace", ""), meta["uid"]
    removed = store.remove(resource, namespace, meta["name"])
    if resource == "namespaces":
        for rt in RESOURCE_TYPES:
            if rt.namespaced:
                for child in store.select(rt.plural, meta["name"]):
                    store.remove(rt.plural, meta["name"], child["metadata"]["name"])
        return removed
    for dep_resource, dependent in store.dependents(uid):
        if policy == "Orphan":
            updated = clone(dependent)
            refs = [r for r in updated["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
            if refs:
                updated["metadata"]["ownerReferences"] = refs
            else:
                updated["metadata"].pop("ownerReferences", None)
            store.put(dep_resource, updated)
        else:
            delete_with_policy(store, dep_resource, dependent, policy)
    return removed
