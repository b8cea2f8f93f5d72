"""Injected faults: what is wrong with which pod, image or workload."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CRASH_ERROR = "Error"
CRASH_OOM = "OOMKilled"


@dataclass
class FaultRegistry:
    """Fault state the controller consults; guarded by the store lock like everything else.

    Pod faults are keyed by pod uid, so they disappear with the pod. Image faults follow the image
    (a rollback to a good image clears them); memory needs follow the workload's container, so they
    clear only when the container's memory limit is raised above the need.
    """

    cpu_hog: dict[str, str] = field(default_factory=dict)  # pod uid -> container ("" = all)
    crash_loop: dict[str, str] = field(default_factory=dict)  # pod uid -> container ("" = all)
    bad_images: set[str] = field(default_factory=set)
    unpullable_images: set[str] = field(default_factory=set)  # the registry has no such image
    memory_need: dict[tuple[str, str, str], float] = field(default_factory=dict)  # (ns, deploy, ctr)

    def crash_reason(
        self, pod_uid: str, container: str, image: str, memory_limit: float | None, need: float | None
    ) -> str | None:
        if need is not None and memory_limit is not None and need > memory_limit:
            return CRASH_OOM
        if self.crash_loop.get(pod_uid, None) in ("", container):
            return CRASH_ERROR
        if image in self.bad_images:
            return CRASH_ERROR
        return None

    def is_cpu_hog(self, pod_uid: str, container: str) -> bool:
        return self.cpu_hog.get(pod_uid, None) in ("", container)

    def fingerprint(self) -> tuple[object, ...]:
        """Changes whenever any fault is added or removed (callers may edit the fields directly)."""
        return (
            frozenset(self.cpu_hog.items()),
            frozenset(self.crash_loop.items()),
            frozenset(self.bad_images),
            frozenset(self.unpullable_images),
            frozenset(self.memory_need.items()),
        )

    def forget_pod(self, pod_uid: str) -> None:
        self.cpu_hog.pop(pod_uid, None)
        self.crash_loop.pop(pod_uid, None)

    def describe(self) -> dict[str, Any]:
        return {
            "cpu_hog_pod_uids": sorted(self.cpu_hog),
            "crash_loop_pod_uids": sorted(self.crash_loop),
            "bad_images": sorted(self.bad_images),
            "unpullable_images": sorted(self.unpullable_images),
            "memory_needs": [
                {"namespace": ns, "deployment": dep, "container": ctr, "memory_bytes": need}
                for (ns, dep, ctr), need in sorted(self.memory_need.items())
            ],
        }
