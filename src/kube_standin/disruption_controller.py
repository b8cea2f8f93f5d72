"""The disruption controller: PodDisruptionBudget status, also used to judge evictions."""

from __future__ import annotations

from kube_standin.clock import rfc3339
from kube_standin.controller_base import ControllerBase, Obj, is_active, is_ready
from kube_standin.errors import ApiError
from kube_standin.objects import scaled_value
from kube_standin.selectors import labels_match, selector_from_spec
from kube_standin.store import clone


class DisruptionController(ControllerBase):
    # ------------------------------------------------------------------ disruption budgets
    def pdb_numbers(self, pdb: Obj) -> tuple[int, int, int, list[Obj]]:
        """(expectedPods, desiredHealthy, currentHealthy, matching pods), as the disruption controller."""
        namespace = pdb["metadata"]["namespace"]
        spec = pdb.get("spec", {})
        selector = selector_from_spec(spec.get("selector"))
        pods = [
            p
            for p in self.store.select("pods", namespace)
            if is_active(p) and selector and labels_match(selector, p["metadata"].get("labels"))
        ]
        healthy = sum(1 for p in pods if is_ready(p))
        min_available, max_unavailable = spec.get("minAvailable"), spec.get("maxUnavailable")
        if isinstance(min_available, int):
            expected = len(pods)
            desired = min_available
        else:
            expected = self._expected_scale(pods)
            if min_available is not None:
                desired = scaled_value(min_available, expected, round_up=True)
            elif max_unavailable is not None:
                desired = max(0, expected - scaled_value(max_unavailable, expected, round_up=True))
            else:
                desired = expected
        return expected, desired, healthy, pods

    def _expected_scale(self, pods: list[Obj]) -> int:
        seen: set[str] = set()
        total = 0
        for pod in pods:
            dep = self.owning_deployment(pod)
            if dep is None:
                total += 1
            elif dep["metadata"]["uid"] not in seen:
                seen.add(dep["metadata"]["uid"])
                total += int(dep["spec"].get("replicas", 1))
        return total

    def _sync_pdb(self, pdb: Obj) -> None:
        expected, desired, healthy, _ = self.pdb_numbers(pdb)
        allowed = max(0, healthy - desired)
        now = self.store.clock.now()
        old = {c["type"]: c for c in pdb.get("status", {}).get("conditions") or []}.get("DisruptionAllowed")
        value = "True" if allowed > 0 else "False"
        status = {
            "observedGeneration": int(pdb["metadata"].get("generation", 1)),
            "expectedPods": expected,
            "desiredHealthy": desired,
            "currentHealthy": healthy,
            "disruptionsAllowed": allowed,
            "conditions": [
                {
                    "type": "DisruptionAllowed",
                    "status": value,
                    "reason": "SufficientPods" if allowed > 0 else "InsufficientPods",
                    "message": "",
                    "observedGeneration": int(pdb["metadata"].get("generation", 1)),
                    "lastTransitionTime": old["lastTransitionTime"]
                    if old and old.get("status") == value
                    else rfc3339(now),
                }
            ],
        }
        if pdb.get("status") != status:
            updated = clone(pdb)
            updated["status"] = status
            self.store.put("poddisruptionbudgets", updated)

    def check_eviction(self, pod: Obj) -> None:
        """Raise what the eviction subresource answers when evicting this pod would break its budget."""
        labels = pod["metadata"].get("labels") or {}
        budgets = []
        for pdb in self.store.select("poddisruptionbudgets", pod["metadata"]["namespace"]):
            selector = selector_from_spec(pdb.get("spec", {}).get("selector"))
            if selector and labels_match(selector, labels):
                budgets.append(pdb)
        if not budgets:
            return
        if len(budgets) > 1:
            raise ApiError(
                500, "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."
            )
        pdb = budgets[0]
        _, desired, healthy, _ = self.pdb_numbers(pdb)
        if not is_ready(pod):
            policy = pdb.get("spec", {}).get("unhealthyPodEvictionPolicy", "IfHealthyBudget")
            if policy == "AlwaysAllow" or healthy >= desired:
                return
        elif healthy - desired > 0:
            return
        name = pdb["metadata"]["name"]
        raise ApiError(
            429,
            "Cannot evict pod as it would violate the pod's disruption budget.",
            details={
                "causes": [
                    {
                        "reason": "DisruptionBudget",
                        "message": f"The disruption budget {name} needs {desired} healthy pods and has "
                        f"{healthy} currently",
                    }
                ]
            },
        )
