"""The resource types the stand-in serves, with what discovery advertises for each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    verbs: tuple[str, ...]
    short_names: tuple[str, ...] = ()
    subresources: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (name, kind, verbs)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def singular(self) -> str:
        return self.kind.lower()

    def serve(self, obj: dict[str, Any]) -> dict[str, Any]:
        """The object as served on its own: apiVersion and kind first."""
        rest = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
        return {"apiVersion": self.api_version, "kind": self.kind, **rest}


READ = ("get", "list", "watch")
RESOURCE_TYPES: tuple[ResourceType, ...] = (
    ResourceType("", "v1", "namespaces", "Namespace", False, ("create", "delete", *READ, "patch"), ("ns",)),
    ResourceType(
        "", "v1", "pods", "Pod", True, ("create", "delete", "deletecollection", *READ, "patch"), ("po",),
        (
            ("eviction", "Eviction", ("create",)),
            ("log", "Pod", ("get",)),
            ("status", "Pod", ("get", "patch")),
        ),
    ),
    ResourceType(
        "", "v1", "nodes", "Node", False, (*READ, "patch", "update"), ("no",),
        (("status", "Node", ("get", "patch")),),
    ),
    ResourceType("", "v1", "events", "Event", True, ("create", "delete", "deletecollection", *READ), ("ev",)),
    ResourceType(
        "apps", "v1", "deployments", "Deployment", True,
        ("create", "delete", *READ, "patch", "update"), ("deploy",),
        (("scale", "Scale", ("get", "patch", "update")), ("status", "Deployment", ("get", "patch"))),
    ),
    ResourceType(
        "apps", "v1", "replicasets", "ReplicaSet", True, ("delete", *READ), ("rs",),
        (("status", "ReplicaSet", ("get",)),),
    ),
    ResourceType("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True,
                 ("create", "delete", *READ), ("pdb",)),
    ResourceType("batch", "v1", "jobs", "Job", True, ("create", "delete", "deletecollection", *READ), (),
                 (("status", "Job", ("get",)),)),
)  # fmt: skip

BY_PATH: dict[tuple[str, str, str], ResourceType] = {(rt.group, rt.version, rt.plural): rt for rt in RESOURCE_TYPES}
BY_PLURAL: dict[str, ResourceType] = {rt.plural: rt for rt in RESOURCE_TYPES}
GROUP_VERSIONS: tuple[tuple[str, str], ...] = tuple(dict.fromkeys((rt.group, rt.version) for rt in RESOURCE_TYPES))
