"""JSON log lines in the shape Cloud Logging reads from Cloud Run stdout.

Each line carries ``severity``, ``message``, ``time`` and, inside a request that
came with ``X-Cloud-Trace-Context``, ``logging.googleapis.com/trace`` so the line
groups under the request in Logs Explorer. Use :func:`log_event` to log
a line with extra fields (``extra={"json_fields": {...}}`` works too).
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

current_trace: ContextVar[str] = ContextVar("current_trace", default="")

TRACE_KEY = "logging.googleapis.com/trace"
_SEVERITY = {"WARN": "WARNING", "FATAL": "CRITICAL"}


def trace_id_from_header(value: str | None) -> str:
    """``TRACE_ID/SPAN_ID;o=1`` -> ``TRACE_ID``; empty for anything else."""
    if not value:
        return ""
    trace_id = value.split("/", 1)[0].strip()
    return trace_id if trace_id and all(c in "0123456789abcdefABCDEF" for c in trace_id) else ""


class CloudLoggingFormatter(logging.Formatter):
    def __init__(self, project_id: str = "") -> None:
        super().__init__()
        self._project_id = project_id

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "severity": _SEVERITY.get(record.levelname, record.levelname),
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "logger": record.name,
        }
        trace = getattr(record, "trace_id", "") or current_trace.get()
        if trace:
            doc[TRACE_KEY] = f"projects/{self._project_id}/traces/{trace}" if self._project_id else trace
        fields = getattr(record, "json_fields", None)
        if isinstance(fields, dict):
            doc.update(fields)
        if record.exc_info:
            doc["stack_trace"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str, ensure_ascii=False)


def log_event(logger: logging.Logger, level: int, message: str, **fields: Any) -> None:
    """Log one structured line; the request's trace id is captured now, not when formatted."""
    logger.log(level, message, extra={"json_fields": fields, "trace_id": current_trace.get()})


def configure_logging(project_id: str = "", level: int = logging.INFO) -> None:
    """Send the service's logs as JSON lines to stdout (idempotent)."""
    logger = logging.getLogger("chatops_service")
    logger.setLevel(level)
    for handler in logger.handlers:
        if isinstance(handler.formatter, CloudLoggingFormatter):
            return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(CloudLoggingFormatter(project_id))
    logger.addHandler(handler)
