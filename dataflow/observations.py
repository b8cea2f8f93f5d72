"""The pipeline's unit of data: one observation about one workload at one instant.

Parsers turn LogEntry and TimeSeries JSON into :class:`Observation` values; the
aggregation folds them per workload and 1-minute window into a feature row.
A workload is (project_id, location, cluster, namespace, controller_kind,
controller_name); when the source does not name the controller (log entries,
Kubernetes events) it is inferred from the pod name the way the controllers
name their pods.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Measures an observation can carry.
CPU = "cpu_utilization"
MEMORY = "memory_utilization"
RESTART_DELTA = "restart_delta"  # restarts during the point's interval (ALIGN_DELTA export)
RESTART_COUNT = "restart_count"  # cumulative restart count of one container
OOM_KILLED = "oom_killed"
ERROR_LOG = "error_log"
WARNING_LOG = "warning_log"
MEASURES = (CPU, MEMORY, RESTART_DELTA, RESTART_COUNT, OOM_KILLED, ERROR_LOG, WARNING_LOG)

WorkloadKey = tuple[str, str, str, str, str, str]

# Kubernetes generates name suffixes from this alphabet (no vowels, no 0/1/3).
_SAFE = "bcdfghjklmnpqrstvwxz2456789"
_DEPLOYMENT_POD = re.compile(rf"^(?P<name>.+)-[{_SAFE}]{{6,10}}-[{_SAFE}]{{5}}$")
_GENERATED_POD = re.compile(rf"^(?P<name>.+)-[{_SAFE}]{{5}}$")
_STATEFUL_POD = re.compile(r"^(?P<name>.+)-(?:0|[1-9][0-9]*)$")


class ParseError(ValueError):
    """A record cannot be parsed; the message says what is wrong (goes to the dead-letter output)."""


@dataclass(frozen=True)
class Observation:
    key: WorkloadKey
    pod_name: str
    container_name: str
    timestamp: float  # event time, epoch seconds
    measure: str
    value: float


def infer_controller(pod_name: str) -> tuple[str, str]:
    """(controller_kind, controller_name) from a pod name.

    ``web-7d4b9c8f6d-x2kq9`` -> Deployment ``web``; ``db-0`` -> StatefulSet ``db``;
    ``agent-x2kq9`` -> a DaemonSet or Job ``agent`` (kind left empty: the name
    alone cannot tell); anything else is a bare Pod.
    """
    if match := _DEPLOYMENT_POD.match(pod_name):
        return "Deployment", match["name"]
    if match := _STATEFUL_POD.match(pod_name):
        return "StatefulSet", match["name"]
    if match := _GENERATED_POD.match(pod_name):
        return "", match["name"]
    return "Pod", pod_name


_CONTROLLER_KINDS = {
    "deployment": "Deployment",
    "statefulset": "StatefulSet",
    "daemonset": "DaemonSet",
    "job": "Job",
    "cronjob": "CronJob",
    "replicaset": "ReplicaSet",
    "pod": "Pod",
}


def normalise_kind(kind: str) -> str:
    return _CONTROLLER_KINDS.get(kind.strip().lower(), kind.strip())


def workload_key(
    project_id: str,
    location: str,
    cluster: str,
    namespace: str,
    pod_name: str,
    controller_kind: str = "",
    controller_name: str = "",
) -> WorkloadKey:
    if controller_name:
        kind = normalise_kind(controller_kind)
        if not kind:
            kind = infer_controller(pod_name)[0] if pod_name else ""
    else:
        if not pod_name:
            raise ParseError("cannot tell the workload: no controller and no pod name")
        kind, controller_name = infer_controller(pod_name)
    return (project_id, location, cluster, namespace, kind, controller_name)
