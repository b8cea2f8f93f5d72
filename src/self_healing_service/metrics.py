"""Prometheus metrics the healer exposes at /metrics (scraped by Cloud Run's managed-Prometheus sidecar).

One process per Cloud Run instance (gunicorn with one worker and several threads), so the
default in-process registry is accurate; with several workers set PROMETHEUS_MULTIPROC_DIR.
"""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)

# No `*_created` series: in Cloud Monitoring each would be one more billed metric.
disable_created_metrics()
REGISTRY = CollectorRegistry(auto_describe=True)

INCIDENTS = Counter(
    "healer_incidents_received",
    "Incident notifications received, by kind and state",
    ["kind", "state"],
    registry=REGISTRY,
)
MALFORMED = Counter(
    "healer_malformed_messages", "Push messages rejected as malformed (dead-lettered)", registry=REGISTRY
)
DECISIONS = Counter(
    "healer_decisions",
    "Decisions taken, by outcome, action and reason",
    ["outcome", "action", "reason"],
    registry=REGISTRY,
)
DUPLICATES = Counter(
    "healer_ledger_conflicts",
    "Deliveries absorbed by the ledger (already decided, or another copy in progress)",
    ["status"],
    registry=REGISTRY,
)
ACTION_SECONDS = Histogram(
    "healer_action_duration_seconds",
    "Time the mutating Kubernetes calls of an action took",
    ["action"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
KUBE_CALLS = Counter(
    "healer_kube_api_calls",
    "Kubernetes API calls, by verb, resource and error",
    ["verb", "resource", "error"],
    registry=REGISTRY,
)
NOTIFICATIONS = Counter("healer_notifications", "Notifications to ChatOps, by result", ["result"], registry=REGISTRY)
TRANSIENT = Counter(
    "healer_transient_failures", "Deliveries answered 503 for redelivery, by cause", ["cause"], registry=REGISTRY
)


def render() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
