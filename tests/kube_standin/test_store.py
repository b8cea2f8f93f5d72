"""The object store: resource versions, no-op writes, owner and uid indexes, the bounded change log."""

from __future__ import annotations

import random

from kube_standin.clock import ManualClock
from kube_standin.events import EventRecorder
from kube_standin.store import Store, clone


def pod(name: str, owner: str | None = None) -> dict[str, object]:
    meta: dict[str, object] = {"name": name, "namespace": "ns"}
    if owner:
        meta["ownerReferences"] = [{"uid": owner, "controller": True, "kind": "ReplicaSet", "name": "rs"}]
    return {"metadata": meta, "spec": {}}


def test_versions_noop_puts_and_indexes() -> None:
    store = Store(ManualClock(), random.Random(1))
    with store.lock:
        first = store.create("pods", pod("a", owner="rs-1"))
        store.create("pods", pod("b", owner="rs-1"))
        version = store.resource_version
        assert store.put("pods", clone(first)) is first  # unchanged content: no new version
        assert store.resource_version == version
        changed = clone(first)
        changed["spec"] = {"nodeName": "n1"}
        store.put("pods", changed)
        assert store.resource_version == version + 1
        assert changed["metadata"]["resourceVersion"] == str(version + 1)
        assert [o["metadata"]["name"] for _, o in store.dependents("rs-1")] == ["a", "b"]
        assert store.find_by_uid("pods", first["metadata"]["uid"]) is changed
        orphaned = clone(changed)
        del orphaned["metadata"]["ownerReferences"]
        store.put("pods", orphaned)
        assert [o["metadata"]["name"] for _, o in store.dependents("rs-1")] == ["b"]
        store.remove("pods", "ns", "a")
        assert store.find_by_uid("pods", first["metadata"]["uid"]) is None


def test_change_log_is_bounded_and_says_when_it_no_longer_reaches_back() -> None:
    store = Store(ManualClock(), random.Random(1), change_log_size=3)
    with store.lock:
        start = store.resource_version
        for index in range(10):
            store.create("pods", pod(f"p{index}"))
        recent, complete = store.changes_after(store.resource_version - 2)
        assert complete and [c.obj["metadata"]["name"] for c in recent] == ["p8", "p9"]
        _, complete = store.changes_after(start)
        assert not complete


def test_event_recorder_counts_repeats_and_keeps_a_bounded_number() -> None:
    store = Store(ManualClock(), random.Random(1))
    recorder = EventRecorder(store, limit=50)
    with store.lock:
        target = store.create("pods", pod("web-1"))
        for index in range(60):
            recorder.record(target, "Normal", "Pulled", f"pulled image {index}", "kubelet")
        recorder.record(target, "Warning", "BackOff", "back-off", "kubelet")
        recorder.record(target, "Warning", "BackOff", "back-off", "kubelet")
        events = store.select("events")
        assert len(events) == 50
        backoff = [e for e in events if e["reason"] == "BackOff"]
        assert len(backoff) == 1 and backoff[0]["count"] == 2
        assert "pulled image 0" not in {e["message"] for e in events}
        recorder.record(target, "Normal", "Pulled", "pulled image 0", "kubelet")  # evicted earlier: a new event
        assert [e["count"] for e in store.select("events") if e["message"] == "pulled image 0"] == [1]
