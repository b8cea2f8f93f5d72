"""The stand-in's own control API under /standin/v1: fault injection, usage and the request log.

Not part of Kubernetes. Errors are JSON objects {"error": "..."} with a 4xx status.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from kube_standin.api import Request, Response
from kube_standin.fault_ops import FaultError, FaultInjector
from kube_standin.request_log import RequestLog
from kube_standin.usage import cluster_usage

PREFIX = "/standin/v1"
Obj = dict[str, Any]

# fault name -> (required fields, optional fields with their types)
FieldTypes = dict[str, type | tuple[type, ...]]
FAULTS: dict[str, tuple[FieldTypes, FieldTypes]] = {
    "cpu-hog": ({"namespace": str}, {"pod": str, "deployment": str, "container": str}),
    "crash-loop": ({"namespace": str}, {"pod": str, "deployment": str, "container": str}),
    "bad-rollout": ({"namespace": str, "deployment": str}, {"image": str, "container": str, "mode": str}),
    "oom": ({"namespace": str, "deployment": str}, {"container": str, "memory": (str, int, float)}),
    "node-not-ready": ({"node": str}, {}),
    "node-ready": ({"node": str}, {}),
    "evicted-pods": ({"namespace": str}, {"count": int, "deployment": str, "node": str}),
    "failed-job": (
        {"namespace": str, "name": str},
        {"image": str, "backoff_limit": int, "finished_seconds_ago": (int, float), "duration_seconds": (int, float)},
    ),
    "clear-pod": ({"namespace": str, "pod": str}, {}),
    "clear-oom": ({"namespace": str, "deployment": str}, {"container": str}),
    "bad-image": ({"image": str}, {"bad": bool}),
}


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _check_body(fault: str, request: Request) -> Obj:
    required, optional = FAULTS[fault]
    try:
        body = json.loads(request.body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ControlError(400, f"body is not valid JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise ControlError(400, "body must be a JSON object")
    unknown = sorted(set(body) - set(required) - set(optional))
    if unknown:
        raise ControlError(400, f"unknown field(s) for {fault}: {', '.join(unknown)}")
    for name, kind in {**required, **optional}.items():
        if name not in body:
            if name in required:
                raise ControlError(400, f"field {name!r} is required for {fault}")
            continue
        value = body[name]
        if isinstance(value, bool) and kind is not bool:
            raise ControlError(400, f"field {name!r} has the wrong type")
        if not isinstance(value, kind):
            raise ControlError(400, f"field {name!r} has the wrong type")
        if isinstance(value, str) and not value:
            raise ControlError(400, f"field {name!r} must not be empty")
    return body


class ControlApi:
    def __init__(self, injector: FaultInjector, request_log: RequestLog, token: str | None) -> None:
        self.injector = injector
        self.request_log = request_log
        self.token = token

    @staticmethod
    def handles(path: str) -> bool:
        return path == PREFIX or path.startswith(PREFIX + "/")

    def handle(self, request: Request) -> Response:
        try:
            if self.token is not None and request.header("Authorization") != f"Bearer {self.token}":
                raise ControlError(401, "missing or wrong bearer token")
            return Response.json(200, self._route(request))
        except ControlError as exc:
            return Response.json(exc.status, {"error": str(exc)})
        except FaultError as exc:
            return Response.json(404 if exc.not_found else 400, {"error": str(exc)})

    def _route(self, request: Request) -> Any:
        path = request.path.rstrip("/")[len(PREFIX) :]
        method = request.method.upper()
        if path == "/healthz" and method == "GET":
            return {"ok": True}
        if path == "/pods/usage" and method == "GET":
            return cluster_usage(self.injector.controller)
        if path == "/faults" and method == "GET":
            return self.injector.describe()
        if path == "/requests":
            if method == "GET":
                return {"requests": [r.to_dict() for r in self.request_log.all()]}
            if method == "DELETE":
                self.request_log.clear()
                return {"cleared": True}
        if path.startswith("/faults/"):
            fault = path[len("/faults/") :]
            if fault not in FAULTS:
                raise ControlError(404, f"unknown fault {fault!r}; known: {', '.join(sorted(FAULTS))}")
            if method != "POST":
                raise ControlError(405, "faults are injected with POST")
            return self._inject(fault, _check_body(fault, request))
        raise ControlError(404, f"no such control endpoint: {method} {request.path}")

    def _inject(self, fault: str, body: Obj) -> Obj:
        injector = self.injector
        actions: dict[str, Callable[[], Obj]] = {
            "cpu-hog": lambda: injector.cpu_hog(
                body["namespace"], body.get("pod"), body.get("deployment"), body.get("container")
            ),
            "crash-loop": lambda: injector.crash_loop(
                body["namespace"], body.get("pod"), body.get("deployment"), body.get("container")
            ),
            "bad-rollout": lambda: injector.bad_rollout(
                body["namespace"],
                body["deployment"],
                body.get("image"),
                body.get("container"),
                body.get("mode", "crash"),
            ),
            "oom": lambda: injector.oom(
                body["namespace"], body["deployment"], body.get("container"), body.get("memory")
            ),
            "node-not-ready": lambda: injector.set_node_ready(body["node"], False),
            "node-ready": lambda: injector.set_node_ready(body["node"], True),
            "evicted-pods": lambda: injector.evict_pods(
                body["namespace"], body.get("count", 1), body.get("deployment"), body.get("node")
            ),
            "failed-job": lambda: injector.failed_job(
                body["namespace"],
                body["name"],
                image=body.get("image", "busybox:1.36"),
                backoff_limit=body.get("backoff_limit", 0),
                finished_seconds_ago=float(body.get("finished_seconds_ago", 0)),
                duration_seconds=float(body.get("duration_seconds", 30)),
            ),
            "clear-pod": lambda: injector.clear_pod(body["namespace"], body["pod"]),
            "clear-oom": lambda: injector.clear_oom(body["namespace"], body["deployment"], body.get("container")),
            "bad-image": lambda: injector.mark_image_bad(body["image"], body.get("bad", True)),
        }
        return actions[fault]()
