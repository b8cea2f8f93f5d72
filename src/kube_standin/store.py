"""The object store: one re-entrant lock, resource versions and a bounded change log for watches."""

from __future__ import annotations

import bisect
import pickle
import random
import threading
import uuid
from dataclasses import dataclass
from typing import Any

from kube_standin.clock import Clock, rfc3339

Obj = dict[str, Any]


@dataclass(frozen=True)
class Change:
    resource_version: int
    type: str  # ADDED, MODIFIED, DELETED
    resource: str
    obj: Obj


class Store:
    """Holds every object as its wire-format dict, keyed by resource plural then (namespace, name).

    Callers hold `lock` around any read-modify-write sequence. Objects handed out are the stored
    ones: copy before changing them outside the lock, and write back through `put`.
    """

    def __init__(self, clock: Clock, rng: random.Random, change_log_size: int = 4096) -> None:
        self.clock = clock
        self.rng = rng
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self._objects: dict[str, dict[tuple[str, str], Obj]] = {}
        self._resource_version = 1000
        self._changes: list[Change] = []
        self._change_versions: list[int] = []
        self._change_log_size = change_log_size
        self._by_uid: dict[str, tuple[str, str, str]] = {}  # uid -> (resource, namespace, name)
        self._by_owner: dict[str, dict[tuple[str, str, str], None]] = {}  # owner uid -> dependents (ordered)
        self.closed = False

    # ------------------------------------------------------------------ reads
    @property
    def resource_version(self) -> int:
        return self._resource_version

    def get(self, resource: str, namespace: str, name: str) -> Obj | None:
        return self._objects.get(resource, {}).get((namespace, name))

    def select(self, resource: str, namespace: str | None = None) -> list[Obj]:
        items = self._objects.get(resource, {})
        keys = sorted(k for k in items if namespace is None or k[0] == namespace)
        return [items[k] for k in keys]

    def find_by_uid(self, resource: str, uid: str) -> Obj | None:
        where = self._by_uid.get(uid)
        if where is None or where[0] != resource:
            return None
        return self.get(*where)

    def dependents(self, owner_uid: str, resource: str | None = None) -> list[tuple[str, Obj]]:
        """(resource, object) for every object with an ownerReference to owner_uid, sorted by name."""
        found: list[tuple[str, Obj]] = []
        for kind, namespace, name in sorted(self._by_owner.get(owner_uid, {}), key=lambda k: (k[1], k[2], k[0])):
            if resource is None or kind == resource:
                obj = self.get(kind, namespace, name)
                if obj is not None:
                    found.append((kind, obj))
        return found

    def changes_after(self, resource_version: int) -> tuple[list[Change], bool]:
        """Changes newer than resource_version, and whether the log still reaches back that far."""
        complete = not self._changes or self._change_versions[0] <= resource_version + 1
        return self._changes[bisect.bisect_right(self._change_versions, resource_version) :], complete

    # ------------------------------------------------------------------ writes
    def new_uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _next_version(self) -> str:
        self._resource_version += 1
        return str(self._resource_version)

    def create(self, resource: str, obj: Obj) -> Obj:
        meta = obj.setdefault("metadata", {})
        meta.setdefault("uid", self.new_uid())
        meta.setdefault("creationTimestamp", rfc3339(self.clock.now()))
        meta["resourceVersion"] = self._next_version()
        key = (meta.get("namespace", ""), meta["name"])
        self._objects.setdefault(resource, {})[key] = obj
        self._index(resource, None, obj)
        self._record("ADDED", resource, obj)
        return obj

    def put(self, resource: str, obj: Obj) -> Obj:
        """Store a changed object (bumping its resourceVersion) unless it equals what is stored."""
        meta = obj["metadata"]
        key = (meta.get("namespace", ""), meta["name"])
        current = self._objects.get(resource, {}).get(key)
        if current is not None and _same_content(current, obj):
            return current
        meta["resourceVersion"] = self._next_version()
        self._objects.setdefault(resource, {})[key] = obj
        self._index(resource, current, obj)
        self._record("MODIFIED", resource, obj)
        return obj

    def remove(self, resource: str, namespace: str, name: str) -> Obj | None:
        obj = self._objects.get(resource, {}).pop((namespace, name), None)
        if obj is not None:
            self._index(resource, obj, None)
            obj = clone(obj)
            obj["metadata"]["resourceVersion"] = self._next_version()
            self._record("DELETED", resource, obj)
        return obj

    def _index(self, resource: str, old: Obj | None, new: Obj | None) -> None:
        for obj, adding in ((old, False), (new, True)):
            if obj is None:
                continue
            meta = obj["metadata"]
            key = (resource, meta.get("namespace", ""), meta["name"])
            uid = meta.get("uid")
            if uid:
                if adding:
                    self._by_uid[uid] = key
                elif self._by_uid.get(uid) == key:
                    del self._by_uid[uid]
            for ref in meta.get("ownerReferences") or []:
                owner = str(ref.get("uid"))
                if adding:
                    self._by_owner.setdefault(owner, {})[key] = None
                else:
                    self._by_owner.get(owner, {}).pop(key, None)

    def _record(self, change_type: str, resource: str, obj: Obj) -> None:
        version = int(obj["metadata"]["resourceVersion"])
        self._changes.append(Change(version, change_type, resource, clone(obj)))
        self._change_versions.append(version)
        if len(self._changes) > self._change_log_size + max(1, self._change_log_size // 8):  # trim in batches
            del self._changes[: -self._change_log_size]
            del self._change_versions[: -self._change_log_size]
        self.changed.notify_all()

    def close(self) -> None:
        with self.lock:
            self.closed = True
            self.changed.notify_all()


def clone(obj: Any) -> Any:
    """A deep copy of JSON-like data; several times faster than copy.deepcopy for API objects."""
    return pickle.loads(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


def _same_content(a: Obj, b: Obj) -> bool:
    if a is b:
        return False  # mutated in place: cannot tell, treat as changed
    strip_a = {**a, "metadata": {k: v for k, v in a["metadata"].items() if k != "resourceVersion"}}
    strip_b = {**b, "metadata": {k: v for k, v in b["metadata"].items() if k != "resourceVersion"}}
    return strip_a == strip_b
