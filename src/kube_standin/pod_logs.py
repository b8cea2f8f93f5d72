"""The pods/log subresource: container, previous, tailLines, sinceSeconds, timestamps, limitBytes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kube_standin.clock import rfc3339_nano
from kube_standin.controller import ContainerRuntime, Controller
from kube_standin.errors import bad_request
from kube_standin.faults import CRASH_OOM
from kube_standin.logs import RunHistory, run_lines

if TYPE_CHECKING:
    from kube_standin.api import Request

Obj = dict[str, Any]


def _int_param(request: Request, name: str) -> int | None:
    value = request.param(name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError as exc:
        raise bad_request(f"{name}: Invalid value: {value!r}: must be an integer") from exc
    if number < 0:
        raise bad_request(f"{name}: Invalid value: {number}: must be greater than or equal to 0")
    return number


def _cause(controller: Controller, pod: Obj, container: Obj, reason: str | None) -> str:
    if reason == CRASH_OOM:
        return "oom"
    if controller.faults.crash_loop.get(pod["metadata"]["uid"]) in ("", container["name"]):
        return "crash-loop"
    return "bad-image" if str(container.get("image")) in controller.faults.bad_images else "crash-loop"


def _last_crash_run(controller: Controller, ctr: ContainerRuntime, now: float) -> tuple[float, float]:
    interval = controller.settings.crash_restart_interval_seconds
    finished = min(now, ctr.crash_since + controller.crash_schedule(ctr, now).last)
    return max(ctr.started_at, finished - interval / 2), finished


def read_log(controller: Controller, pod: Obj, request: Request) -> str:
    meta = pod["metadata"]
    containers = pod["spec"].get("containers") or []
    names = [c["name"] for c in containers]
    wanted = request.param("container")
    if wanted is None:
        if len(names) != 1:
            raise bad_request(
                f"a container name must be specified for pod {meta['name']}, choose one of: [{' '.join(names)}]"
            )
        wanted = names[0]
    container = next((c for c in containers if c["name"] == wanted), None)
    if container is None:
        raise bad_request(f"container {wanted} is not valid for pod {meta['name']}")
    now = controller.store.clock.now()
    runtime = controller.runtime.get(meta["uid"])
    ctr = runtime.containers.get(wanted) if runtime else None
    if ctr is None:
        if pod.get("status", {}).get("phase") in ("Failed", "Succeeded"):
            return ""
        raise bad_request(f'container "{wanted}" in pod "{meta["name"]}" is waiting to start: ContainerCreating')
    if ctr.pulling_since is not None:
        raise bad_request(
            f'container "{wanted}" in pod "{meta["name"]}" is waiting to start: trying and failing to pull image'
        )
    previous = request.flag("previous")
    if ctr.crash_reason is not None:
        started, finished = _last_crash_run(controller, ctr, now)
        run = RunHistory(started, finished, ctr.crash_reason, _cause(controller, pod, container, ctr.crash_reason))
    elif previous:
        last = ctr.last_termination
        if last is None:
            raise bad_request(f'previous terminated container "{wanted}" in pod "{meta["name"]}" not found')
        run = RunHistory(ctr.started_at - 1, ctr.started_at, last.get("reason"), "")
    else:
        run = RunHistory(ctr.started_at, None, None, "")
    lines = run_lines(meta["uid"], wanted, str(container.get("image", "")), run, now)
    since = _int_param(request, "sinceSeconds")
    if since is not None:
        lines = [line for line in lines if line[0] >= now - since]
    tail = _int_param(request, "tailLines")
    if tail is not None:
        lines = lines[-tail:] if tail else []
    timestamps = request.flag("timestamps")
    text = "".join(f"{rfc3339_nano(t)} {line}\n" if timestamps else f"{line}\n" for t, line in lines)
    limit = _int_param(request, "limitBytes")
    if limit is not None:
        text = text.encode()[:limit].decode("utf-8", "ignore")
    return text
