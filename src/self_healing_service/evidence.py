"""Capture what a human would want to see afterwards, before a destructive action.

The pod's status, its recent events and its containers' last log lines go into one JSON
document, written to a bucket (``gs://bucket/prefix``) or a local directory, and its
address is linked in the chat notification.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

from self_healing_service.errors import KubeError
from self_healing_service.kube import KubeGateway

log = logging.getLogger(__name__)
MAX_LOG_LINES = 50


def collect(gw: KubeGateway, namespace: str, pod: str, deployment: str) -> dict[str, Any]:
    doc: dict[str, Any] = {"namespace": namespace, "pod": pod, "deployment": deployment, "captured_at": time.time()}
    if not namespace or not pod:
        return doc
    try:
        manifest = gw.read_pod(namespace, pod)
        doc["status"] = manifest.get("status")
        containers = [c.get("name", "") for c in ((manifest.get("spec") or {}).get("containers") or [])]
        doc["logs"] = {}
        for container in containers:
            try:
                lines = gw.read_pod_log(namespace, pod, container, tail_lines=MAX_LOG_LINES).splitlines()
                doc["logs"][container] = lines[-MAX_LOG_LINES:]
            except KubeError as exc:
                doc["logs"][container] = [f"(logs unavailable: {exc})"]
        events = gw.list_events(namespace, field_selector=f"involvedObject.name={pod}")
        doc["events"] = [
            {k: e.get(k) for k in ("type", "reason", "message", "count", "lastTimestamp")} for e in events[-20:]
        ]
    except KubeError as exc:
        doc["error"] = str(exc)
    return doc


def store(location: str, incident_id: str, action: str, doc: dict[str, Any]) -> str:
    """Write the evidence document; returns its URI (gs://... or file path)."""
    if not location:
        return ""
    name = f"{incident_id.replace('/', '_')}/{int(time.time() * 1000)}-{action}.json"
    body = json.dumps(doc, default=str, indent=2)
    if location.startswith("gs://"):
        from google.cloud import storage  # type: ignore[attr-defined]

        bucket_name, _, prefix = location.removeprefix("gs://").partition("/")
        path = f"{prefix.rstrip('/')}/{name}" if prefix else name
        storage.Client().bucket(bucket_name).blob(path).upload_from_string(body, content_type="application/json")
        return f"gs://{bucket_name}/{path}"
    target = Path(location) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(body, encoding="utf-8")
    return str(target)
