"""Finished batch/v1 Jobs and their pods, shaped as the job controller leaves them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kube_standin.clock import rfc3339
from kube_standin.objects import default_job
from kube_standin.store import clone

Obj = dict[str, Any]
BACKOFF_MESSAGE = "Job has reached the specified backoff limit"


@dataclass(frozen=True)
class FinishedJob:
    namespace: str
    name: str
    uid: str
    image: str
    started: float
    finished: float
    succeeded: bool = False
    backoff_limit: int = 0
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def attempts(self) -> int:
        return 1 if self.succeeded else self.backoff_limit + 1

    @property
    def selector_labels(self) -> dict[str, str]:
        return {
            "batch.kubernetes.io/controller-uid": self.uid,
            "batch.kubernetes.io/job-name": self.name,
            "controller-uid": self.uid,
            "job-name": self.name,
        }


def job_object(spec: FinishedJob) -> Obj:
    """The Job: Complete with completionTime, or Failed (BackoffLimitExceeded) without one, as in Kubernetes."""
    finished = rfc3339(spec.finished)
    job: Obj = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": spec.name,
            "namespace": spec.namespace,
            "uid": spec.uid,
            "labels": {**spec.selector_labels, **spec.labels},
            "creationTimestamp": rfc3339(spec.started),
            "generation": 1,
        },
        "spec": {
            "backoffLimit": spec.backoff_limit,
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": spec.uid}},
            "template": {
                "metadata": {"labels": dict(spec.selector_labels)},
                "spec": {
                    "containers": [
                        {"name": spec.name, "image": spec.image, "command": ["/bin/sh", "-c", "run-report"]}
                    ],
                    "restartPolicy": "Never",
                },
            },
        },
    }
    default_job(job)
    status: Obj = {"startTime": rfc3339(spec.started), "ready": 0, "terminating": 0, "uncountedTerminatedPods": {}}
    if spec.succeeded:
        status.update(completionTime=finished, succeeded=1)
        status["conditions"] = [
            {"type": "Complete", "status": "True", "lastProbeTime": finished, "lastTransitionTime": finished}
        ]
    else:
        status["failed"] = spec.attempts
        status["conditions"] = [
            {
                "type": kind,
                "status": "True",
                "reason": "BackoffLimitExceeded",
                "message": BACKOFF_MESSAGE,
                "lastProbeTime": finished,
                "lastTransitionTime": finished,
            }
            for kind in ("FailureTarget", "Failed")
        ]
    job["status"] = status
    return job


def job_pod(spec: FinishedJob, job: Obj, pod_name: str, node_name: str) -> Obj:
    """One finished attempt: phase Succeeded (exit 0) or Failed (exit 1)."""
    exit_code, reason = (0, "Completed") if spec.succeeded else (1, "Error")
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": pod_name,
            "generateName": f"{spec.name}-",
            "namespace": spec.namespace,
            "labels": dict(spec.selector_labels),
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "Job",
                    "name": spec.name,
                    "uid": spec.uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
            "creationTimestamp": rfc3339(spec.started),
        },
        "spec": {**clone(job["spec"]["template"]["spec"]), "nodeName": node_name},
        "status": {
            "phase": "Succeeded" if spec.succeeded else "Failed",
            "startTime": rfc3339(spec.started),
            "containerStatuses": [
                {
                    "name": spec.name,
                    "image": spec.image,
                    "imageID": "",
                    "ready": False,
                    "restartCount": 0,
                    "started": False,
                    "state": {
                        "terminated": {
                            "exitCode": exit_code,
                            "reason": reason,
                            "startedAt": rfc3339(spec.started),
                            "finishedAt": rfc3339(spec.finished),
                        }
                    },
                    "lastState": {},
                }
            ],
        },
    }
