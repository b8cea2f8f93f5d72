"""Parsing Kubernetes REST paths into (resource type, namespace, name, subresource)."""

from __future__ import annotations

from dataclasses import dataclass

from kube_standin.errors import ApiError
from kube_standin.resources import BY_PATH, ResourceType


@dataclass(frozen=True)
class ResourcePath:
    resource: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None


def not_found_path() -> ApiError:
    return ApiError(404, "the server could not find the requested resource", details={})


def parse_resource_path(path: str) -> ResourcePath | None:
    """None when the path is not under /api/v1 or /apis/<group>/<version>; 404 for unknown resources."""
    segments = [s for s in path.split("/") if s]
    if len(segments) >= 3 and segments[0] == "api":
        group, version, rest = "", segments[1], segments[2:]
    elif len(segments) >= 4 and segments[0] == "apis":
        group, version, rest = segments[1], segments[2], segments[3:]
    else:
        return None
    namespace: str | None = None
    if (
        len(rest) >= 3
        and rest[0] == "namespaces"
        and (group, version, rest[2]) in BY_PATH
        and BY_PATH[(group, version, rest[2])].namespaced
    ):
        namespace, rest = rest[1], rest[2:]
    resource = BY_PATH.get((group, version, rest[0]))
    if resource is None or len(rest) > 3:
        raise not_found_path()
    if namespace is not None and not resource.namespaced:
        raise not_found_path()
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else None
    if subresource is not None and subresource not in {s for s, _, _ in resource.subresources}:
        raise not_found_path()
    if name is not None and resource.namespaced and namespace is None:
        raise not_found_path()
    return ResourcePath(resource, namespace, name, subresource)
