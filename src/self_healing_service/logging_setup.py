"""Structured JSON log lines in Cloud Logging's format, one per line on stdout."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from typing import Any

_trace: contextvars.ContextVar[str] = contextvars.ContextVar("trace", default="")
_project: contextvars.ContextVar[str] = contextvars.ContextVar("project", default="")

_LEVELS = {"DEBUG": "DEBUG", "INFO": "INFO", "WARNING": "WARNING", "ERROR": "ERROR", "CRITICAL": "CRITICAL"}


def trace_from_header(header: str, project_id: str) -> str:
    """`X-Cloud-Trace-Context: TRACE_ID/SPAN_ID;o=1` -> `projects/P/traces/TRACE_ID`."""
    trace_id = (header or "").split("/", 1)[0].strip()
    if not trace_id:
        return ""
    return f"projects/{project_id}/traces/{trace_id}" if project_id else trace_id


def set_trace(value: str) -> contextvars.Token[str]:
    return _trace.set(value)


def reset_trace(token: contextvars.Token[str]) -> None:
    _trace.reset(token)


class CloudLoggingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "severity": _LEVELS.get(record.levelname, "DEFAULT"),
            "message": record.getMessage(),
            "logger": record.name,
        }
        trace = _trace.get()
        if trace:
            entry["logging.googleapis.com/trace"] = trace
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update(fields)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, sort_keys=False)


def configure_logging(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(isinstance(h.formatter, CloudLoggingFormatter) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(CloudLoggingFormatter())
    root.handlers = [handler]
    root.setLevel(level)
    for noisy in ("urllib3", "kubernetes", "google", "grpc", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
