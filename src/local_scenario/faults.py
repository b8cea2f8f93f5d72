"""The faults the scenario injects, and what the healer is expected to do about each."""

from __future__ import annotations

from dataclasses import dataclass

from local_scenario.cluster import StandinCluster
from local_scenario.sample_app import PROTECTED, SHOP

BAD_IMAGE = "registry.local/shop/frontend:2.0.0-bad"


@dataclass(frozen=True)
class FaultSpec:
    name: str
    namespace: str
    workload: str
    rule_kind: str  # the incident kind the alert rules should raise
    expect: str  # heal | refuse
    description: str


FAULTS: dict[str, FaultSpec] = {
    spec.name: spec
    for spec in (
        FaultSpec("cpu_hog", SHOP, "checkout", "high_cpu", "heal", "a CPU hog in one checkout pod"),
        FaultSpec("crash_loop", SHOP, "cart", "crash_loop", "heal", "one cart pod starts crash-looping"),
        FaultSpec("bad_rollout", SHOP, "frontend", "crash_loop", "heal", f"frontend rolled out to {BAD_IMAGE}"),
        FaultSpec(
            "protected_cpu_hog",
            PROTECTED,
            "metrics-agent",
            "high_cpu",
            "refuse",
            "a CPU hog in the protected kube-system namespace",
        ),
    )
}
DEFAULT_FAULTS = ("cpu_hog", "crash_loop", "bad_rollout", "protected_cpu_hog")


def parse_fault_list(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:
        raise ValueError("--faults: name at least one fault")
    unknown = [n for n in names if n not in FAULTS]
    if unknown:
        raise ValueError(f"--faults: unknown fault(s) {', '.join(unknown)} (known: {', '.join(FAULTS)})")
    if len(set(names)) != len(names):
        raise ValueError("--faults: each fault may be named once")
    return names


def inject(cluster: StandinCluster, spec: FaultSpec) -> str:
    """Inject the fault; returns what was done, for the timeline."""
    if spec.name == "bad_rollout":
        cluster.inject_bad_rollout(spec.namespace, spec.workload, BAD_IMAGE)
        return f"rolled {spec.namespace}/{spec.workload} out to {BAD_IMAGE} (it crash-loops)"
    pods = cluster.pods_of(spec.namespace, spec.workload)
    if not pods:
        raise RuntimeError(f"{spec.namespace}/{spec.workload} has no running pod to inject {spec.name} into")
    pod = pods[0]
    if spec.name == "crash_loop":
        cluster.inject_crash_loop(pod)
        return f"pod {spec.namespace}/{pod.name} starts crash-looping"
    cluster.inject_cpu_hog(pod)
    return f"pod {spec.namespace}/{pod.name} burns its whole CPU limit"


def clear(cluster: StandinCluster, spec: FaultSpec) -> None:
    """The operator removes a fault the healer was not allowed (or not meant) to fix."""
    cluster.clear_pod_faults(spec.namespace, spec.workload)
    if spec.name == "bad_rollout":
        with cluster.store.lock:
            cluster.faults.bad_images.discard(BAD_IMAGE)
