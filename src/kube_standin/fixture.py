"""Loading initial cluster state from a fixture (YAML text, a file or a dict).

Every problem is reported as FixtureError naming the exact place, e.g.
"namespaces[0].deployments[1].replicas: must be a non-negative integer".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from kube_standin.api import prepare_new_object
from kube_standin.controller import Controller
from kube_standin.errors import ApiError
from kube_standin.fault_ops import FaultError, FaultInjector
from kube_standin.fixture_checks import (
    FixtureError,
    boolean,
    expect_list,
    expect_map,
    non_negative_int,
    string_map,
)
from kube_standin.fixture_nodes import build_node
from kube_standin.resources import BY_PLURAL, RESOURCE_TYPES
from kube_standin.store import clone

Obj = dict[str, Any]
TOP_KEYS = {"nodes", "namespaces", "manifests", "faults"}
NAMESPACE_KEYS = {"name", "labels", "annotations", "deployments", "pod_disruption_budgets", "jobs", "pods"}
DEPLOYMENT_KEYS = {
    "name",
    "replicas",
    "labels",
    "annotations",
    "paused",
    "selector",
    "pod_labels",
    "pod_annotations",
    "containers",
    "strategy",
    "max_surge",
    "max_unavailable",
    "revision_history_limit",
    "progress_deadline_seconds",
    "min_ready_seconds",
    "rollout_history",
}
CONTAINER_KEYS = {"name", "image", "resources", "env", "ports", "command", "args"}
PDB_KEYS = {"name", "selector", "min_available", "max_unavailable", "unhealthy_pod_eviction_policy", "labels"}
JOB_KEYS = {"name", "image", "status", "backoff_limit", "finished_seconds_ago", "duration_seconds", "labels"}
POD_KEYS = {"name", "node", "labels", "annotations", "containers", "phase", "reason", "message"}
FAULT_KEYS = {"type", "namespace", "deployment", "pod", "container", "image", "memory", "node", "count", "name", "mode"}


def read_fixture(source: str | Path | Obj) -> Obj:
    """A dict from a dict, a path to a YAML/JSON file, or YAML text."""
    if isinstance(source, dict):
        return clone(source)
    if isinstance(source, Path) or (
        isinstance(source, str) and "\n" not in source and source.endswith((".yaml", ".yml", ".json"))
    ):
        path = Path(source)
        if not path.is_file():
            raise FixtureError(f"fixture file not found: {path}")
        text = path.read_text(encoding="utf-8")
    else:
        text = str(source)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise FixtureError(f"fixture is not valid YAML: {exc}") from exc
    if data is None:
        return {}
    return expect_map(data, "fixture")


def load_fixture(controller: Controller, source: str | Path | Obj) -> None:
    data = expect_map(read_fixture(source), "fixture", TOP_KEYS)
    with controller.store.lock:
        controller.settling = True
        try:
            _load(controller, data)
        finally:
            controller.settling = False


def _load(controller: Controller, data: Obj) -> None:
    nodes = expect_list(data.get("nodes"), "nodes")
    for index, node in enumerate(nodes):
        _create(controller, "nodes", build_node(node, f"nodes[{index}]", controller), f"nodes[{index}]")
    if not nodes:
        for index in range(3):
            _create(
                controller,
                "nodes",
                build_node({"name": f"gke-standin-default-pool-{index + 1}"}, "", controller),
                "",
            )
    namespaces = expect_list(data.get("namespaces"), "namespaces")
    names = set()
    for index, namespace in enumerate(namespaces):
        names.add(expect_map(namespace, f"namespaces[{index}]", NAMESPACE_KEYS, ("name",))["name"])
    for builtin in ("default", "kube-system", "kube-public", "kube-node-lease"):
        if builtin not in names:
            _create(controller, "namespaces", {"metadata": {"name": builtin}}, f"namespace {builtin}")
    for index, namespace in enumerate(namespaces):
        _load_namespace(controller, namespace, f"namespaces[{index}]")
    for index, manifest in enumerate(expect_list(data.get("manifests"), "manifests")):
        _load_manifest(controller, manifest, f"manifests[{index}]")
    controller.sync(force=True)
    injector = FaultInjector(controller)
    for index, fault in enumerate(expect_list(data.get("faults"), "faults")):
        _apply_fault(injector, expect_map(fault, f"faults[{index}]", FAULT_KEYS, ("type",)), f"faults[{index}]")


def _create(controller: Controller, resource: str, obj: Obj, where: str) -> Obj:
    rt = BY_PLURAL[resource]
    obj.setdefault("metadata", {})
    name = obj["metadata"].get("name")
    if controller.store.get(resource, obj["metadata"].get("namespace", ""), str(name)) is not None:
        raise FixtureError(f"{where}: {rt.kind} {name!r} is defined twice")
    try:
        prepared = prepare_new_object(rt, obj)
    except ApiError as exc:
        raise FixtureError(f"{where}: {exc.message}") from exc
    return controller.store.create(resource, prepared)


def _load_namespace(controller: Controller, spec: Obj, where: str) -> None:
    name = spec["name"]
    if not isinstance(name, str):
        raise FixtureError(f"{where}.name: must be a string")
    if controller.store.get("namespaces", "", name) is not None:
        raise FixtureError(f"{where}: namespace {name!r} is defined twice")
    _create(
        controller,
        "namespaces",
        {
            "metadata": {
                "name": name,
                "labels": string_map(spec.get("labels"), f"{where}.labels"),
                "annotations": string_map(spec.get("annotations"), f"{where}.annotations"),
            }
        },
        where,
    )
    for index, dep in enumerate(expect_list(spec.get("deployments"), f"{where}.deployments")):
        _load_deployment(controller, name, dep, f"{where}.deployments[{index}]")
    for index, pdb in enumerate(expect_list(spec.get("pod_disruption_budgets"), f"{where}.pod_disruption_budgets")):
        _create(
            controller,
            "poddisruptionbudgets",
            build_pdb(name, pdb, f"{where}.pod_disruption_budgets[{index}]"),
            f"{where}.pod_disruption_budgets[{index}]",
        )
    injector = FaultInjector(controller)
    for index, job in enumerate(expect_list(spec.get("jobs"), f"{where}.jobs")):
        here = f"{where}.jobs[{index}]"
        job = expect_map(job, here, JOB_KEYS, ("name",))
        status = job.get("status", "failed")
        if status not in ("failed", "succeeded"):
            raise FixtureError(f"{here}.status: must be failed or succeeded, got {status!r}")
        try:
            injector.failed_job(
                name,
                str(job["name"]),
                image=str(job.get("image", "busybox:1.36")),
                backoff_limit=non_negative_int(job.get("backoff_limit", 0), f"{here}.backoff_limit"),
                finished_seconds_ago=float(job.get("finished_seconds_ago", 0)),
                duration_seconds=float(job.get("duration_seconds", 30)),
                labels=string_map(job.get("labels"), f"{here}.labels"),
                succeeded=status == "succeeded",
            )
        except (FaultError, TypeError, ValueError) as exc:
            raise FixtureError(f"{here}: {exc}") from exc
    for index, pod in enumerate(expect_list(spec.get("pods"), f"{where}.pods")):
        _load_pod(controller, name, pod, f"{where}.pods[{index}]")


def build_container(spec: Any, where: str) -> Obj:
    spec = expect_map(spec, where, CONTAINER_KEYS, ("name", "image"))
    container: Obj = {"name": str(spec["name"]), "image": str(spec["image"])}
    if "resources" in spec:
        resources = expect_map(spec["resources"], f"{where}.resources", {"requests", "limits"})
        container["resources"] = {k: string_map(v, f"{where}.resources.{k}") for k, v in resources.items()}
    env = spec.get("env")
    if isinstance(env, dict):
        container["env"] = [{"name": k, "value": v} for k, v in string_map(env, f"{where}.env").items()]
    elif env is not None:
        container["env"] = [
            expect_map(e, f"{where}.env[{i}]", None, ("name",)) for i, e in enumerate(expect_list(env, f"{where}.env"))
        ]
    ports = []
    for index, port in enumerate(expect_list(spec.get("ports"), f"{where}.ports")):
        if isinstance(port, int) and not isinstance(port, bool):
            ports.append({"containerPort": port, "protocol": "TCP"})
        else:
            ports.append(expect_map(port, f"{where}.ports[{index}]", None, ("containerPort",)))
    if ports:
        container["ports"] = ports
    for key in ("command", "args"):
        if key in spec:
            container[key] = [str(v) for v in expect_list(spec[key], f"{where}.{key}")]
    return container


def _load_deployment(controller: Controller, namespace: str, spec: Any, where: str) -> None:
    spec = expect_map(spec, where, DEPLOYMENT_KEYS, ("name", "containers"))
    name = str(spec["name"])
    selector = string_map(spec.get("selector"), f"{where}.selector") or {"app": name}
    containers = [
        build_container(c, f"{where}.containers[{i}]")
        for i, c in enumerate(expect_list(spec["containers"], f"{where}.containers"))
    ]
    strategy: Obj = {"type": spec.get("strategy", "RollingUpdate")}
    if strategy["type"] == "RollingUpdate":
        strategy["rollingUpdate"] = {
            "maxSurge": spec.get("max_surge", "25%"),
            "maxUnavailable": spec.get("max_unavailable", "25%"),
        }
    deployment: Obj = {
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": string_map(spec.get("labels"), f"{where}.labels") or dict(selector),
            "annotations": string_map(spec.get("annotations"), f"{where}.annotations"),
        },
        "spec": {
            "replicas": non_negative_int(spec.get("replicas", 1), f"{where}.replicas"),
            "selector": {"matchLabels": selector},
            "strategy": strategy,
            "template": {
                "metadata": {"labels": {**selector, **string_map(spec.get("pod_labels"), f"{where}.pod_labels")}},
                "spec": {"containers": containers},
            },
        },
    }
    pod_annotations = string_map(spec.get("pod_annotations"), f"{where}.pod_annotations")
    if pod_annotations:
        deployment["spec"]["template"]["metadata"]["annotations"] = pod_annotations
    for key, field in (
        ("revision_history_limit", "revisionHistoryLimit"),
        ("progress_deadline_seconds", "progressDeadlineSeconds"),
        ("min_ready_seconds", "minReadySeconds"),
    ):
        if key in spec:
            deployment["spec"][field] = non_negative_int(spec[key], f"{where}.{key}")
    paused = boolean(spec.get("paused", False), f"{where}.paused")
    history = expect_list(spec.get("rollout_history"), f"{where}.rollout_history")
    final_images = {c["name"]: c["image"] for c in containers}
    if history:
        first = _images(history[0], f"{where}.rollout_history[0]", final_images)
        for container in containers:
            container["image"] = first.get(container["name"], container["image"])
    created = _create(controller, "deployments", deployment, where)
    steps = [_images(step, f"{where}.rollout_history[{i + 1}]", final_images) for i, step in enumerate(history[1:])]
    for images in [*steps, final_images] if history else []:
        controller.sync(force=True)
        current = clone(controller.store.get("deployments", namespace, name) or created)
        for container in current["spec"]["template"]["spec"]["containers"]:
            container["image"] = images.get(container["name"], container["image"])
        current["metadata"]["generation"] = int(current["metadata"].get("generation", 1)) + 1
        controller.store.put("deployments", current)
    if paused:
        controller.sync(force=True)
        current = clone(controller.store.get("deployments", namespace, name) or created)
        current["spec"]["paused"] = True
        controller.store.put("deployments", current)
    if history or paused:
        controller.sync(force=True)


def _images(step: Any, where: str, known: dict[str, str]) -> dict[str, str]:
    images = string_map(step, where)
    unknown = sorted(set(images) - set(known))
    if unknown:
        raise FixtureError(f"{where}: unknown container(s) {', '.join(unknown)}")
    return images


def _int_or_percent(value: Any, where: str) -> int | str:
    if isinstance(value, str) and value.endswith("%") and value[:-1].isdigit():
        return value
    return non_negative_int(value, where)


def build_pdb(namespace: str, spec: Any, where: str) -> Obj:
    spec = expect_map(spec, where, PDB_KEYS, ("name", "selector"))
    body: Obj = {"selector": {"matchLabels": string_map(spec["selector"], f"{where}.selector")}}
    if ("min_available" in spec) == ("max_unavailable" in spec):
        raise FixtureError(f"{where}: set exactly one of min_available and max_unavailable")
    if "min_available" in spec:
        body["minAvailable"] = _int_or_percent(spec["min_available"], f"{where}.min_available")
    else:
        body["maxUnavailable"] = _int_or_percent(spec["max_unavailable"], f"{where}.max_unavailable")
    if "unhealthy_pod_eviction_policy" in spec:
        policy = spec["unhealthy_pod_eviction_policy"]
        if policy not in ("IfHealthyBudget", "AlwaysAllow"):
            raise FixtureError(f"{where}.unhealthy_pod_eviction_policy: must be IfHealthyBudget or AlwaysAllow")
        body["unhealthyPodEvictionPolicy"] = policy
    return {
        "metadata": {
            "name": str(spec["name"]),
            "namespace": namespace,
            "labels": string_map(spec.get("labels"), f"{where}.labels"),
        },
        "spec": body,
    }


def _load_pod(controller: Controller, namespace: str, spec: Any, where: str) -> None:
    spec = expect_map(spec, where, POD_KEYS, ("name",))
    phase = spec.get("phase", "Running")
    if phase not in ("Pending", "Running", "Succeeded", "Failed"):
        raise FixtureError(f"{where}.phase: must be Pending, Running, Succeeded or Failed")
    containers = [
        build_container(c, f"{where}.containers[{i}]")
        for i, c in enumerate(
            expect_list(spec.get("containers") or [{"name": "main", "image": "busybox:1.36"}], f"{where}.containers")
        )
    ]
    node = spec.get("node")
    if node is not None and controller.store.get("nodes", "", str(node)) is None:
        raise FixtureError(f"{where}.node: no node named {node!r}")
    pod: Obj = {
        "metadata": {
            "name": str(spec["name"]),
            "namespace": namespace,
            "labels": string_map(spec.get("labels"), f"{where}.labels"),
            "annotations": string_map(spec.get("annotations"), f"{where}.annotations"),
        },
        "spec": {"containers": containers},
    }
    if node is not None:
        pod["spec"]["nodeName"] = str(node)
    if phase in ("Failed", "Succeeded") and node is None:
        pod["spec"]["nodeName"] = next((n["metadata"]["name"] for n in controller.store.select("nodes")), "")
    created = _create(controller, "pods", pod, where)
    if phase in ("Failed", "Succeeded"):
        injector = FaultInjector(controller)
        status = injector._evicted_status(created, controller.store.clock.now())
        status["phase"] = phase
        if spec.get("reason") is not None:
            status["reason"] = str(spec["reason"])
        else:
            status.pop("reason")
        if spec.get("message") is not None:
            status["message"] = str(spec["message"])
        elif status.get("reason") != "Evicted":
            status.pop("message")
        updated = clone(created)
        updated["status"] = status
        controller.store.put("pods", updated)


def _load_manifest(controller: Controller, manifest: Any, where: str) -> None:
    manifest = clone(expect_map(manifest, where, None, ("kind", "metadata")))
    rt = next(
        (
            r
            for r in RESOURCE_TYPES
            if r.kind == manifest["kind"] and r.api_version == manifest.get("apiVersion", r.api_version)
        ),
        None,
    )
    if rt is None:
        raise FixtureError(f"{where}: unsupported kind {manifest.get('apiVersion')}/{manifest['kind']}")
    meta = expect_map(manifest["metadata"], f"{where}.metadata")
    if rt.namespaced:
        meta.setdefault("namespace", "default")
        if controller.store.get("namespaces", "", meta["namespace"]) is None:
            raise FixtureError(f"{where}: namespace {meta['namespace']!r} does not exist")
    _create(controller, rt.plural, manifest, where)


def _apply_fault(injector: FaultInjector, fault: Obj, where: str) -> None:
    kind = fault["type"]
    try:
        if kind == "cpu-hog":
            injector.cpu_hog(fault["namespace"], fault.get("pod"), fault.get("deployment"), fault.get("container"))
        elif kind == "crash-loop":
            injector.crash_loop(fault["namespace"], fault.get("pod"), fault.get("deployment"), fault.get("container"))
        elif kind == "bad-rollout":
            injector.bad_rollout(
                fault["namespace"],
                fault["deployment"],
                fault.get("image"),
                fault.get("container"),
                fault.get("mode", "crash"),
            )
        elif kind == "oom":
            injector.oom(fault["namespace"], fault["deployment"], fault.get("container"), fault.get("memory"))
        elif kind == "node-not-ready":
            injector.set_node_ready(fault["node"], False)
        elif kind == "evicted-pods":
            injector.evict_pods(
                fault["namespace"], int(fault.get("count", 1)), fault.get("deployment"), fault.get("node")
            )
        elif kind == "failed-job":
            injector.failed_job(fault["namespace"], fault["name"], image=fault.get("image", "busybox:1.36"))
        else:
            raise FixtureError(
                f"{where}.type: unknown fault {kind!r}; known: cpu-hog, crash-loop, bad-rollout, oom, "
                "node-not-ready, evicted-pods, failed-job"
            )
    except KeyError as exc:
        raise FixtureError(f"{where}.{exc.args[0]}: required for {kind}") from exc
    except FaultError as exc:
        raise FixtureError(f"{where}: {exc}") from exc
