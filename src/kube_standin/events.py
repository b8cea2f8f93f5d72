"""Recording core/v1 Events the way controllers and the kubelet do (deduplicated with a count)."""

from __future__ import annotations

from typing import Any

from kube_standin.clock import rfc3339
from kube_standin.store import Store

Obj = dict[str, Any]


class EventRecorder:
    def __init__(self, store: Store, limit: int = 2000) -> None:
        self._store = store
        self._limit = limit
        self._by_key: dict[tuple[str, str, str], tuple[str, str]] = {}
        self._order: list[tuple[str, str]] = []
        self._key_of: dict[tuple[str, str], tuple[str, str, str]] = {}

    def record(self, involved: Obj, event_type: str, reason: str, message: str, component: str) -> None:
        meta = involved["metadata"]
        namespace = meta.get("namespace") or "default"
        key = (str(meta.get("uid")), reason, message)
        now = rfc3339(self._store.clock.now())
        existing_key = self._by_key.get(key)
        existing = self._store.get("events", *existing_key) if existing_key else None
        if existing is not None:
            updated = {**existing, "count": int(existing.get("count", 1)) + 1, "lastTimestamp": now}
            updated["metadata"] = dict(existing["metadata"])
            self._store.put("events", updated)
            return
        name = f"{meta['name']}.{self._store.rng.getrandbits(64):016x}"
        event: Obj = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": {
                "apiVersion": involved.get("apiVersion", "v1"),
                "kind": involved.get("kind"),
                "name": meta["name"],
                "namespace": meta.get("namespace", ""),
                "uid": meta.get("uid"),
                "resourceVersion": meta.get("resourceVersion"),
            },
            "reason": reason,
            "message": message,
            "type": event_type,
            "source": {"component": component},
            "reportingComponent": component,
            "reportingInstance": "",
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "eventTime": None,
        }
        self._store.create("events", event)
        self._by_key[key] = (namespace, name)
        self._key_of[(namespace, name)] = key
        self._order.append((namespace, name))
        while len(self._order) > self._limit:
            old_ns, old_name = self._order.pop(0)
            self._store.remove("events", old_ns, old_name)
            self._by_key.pop(self._key_of.pop((old_ns, old_name)), None)
