"""Prometheus metrics ChatOps exposes at /metrics (scraped by Cloud Run's managed-Prometheus sidecar)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, disable_created_metrics, generate_latest

# No `*_created` series: in Cloud Monitoring each would be one more billed metric.
disable_created_metrics()
REGISTRY = CollectorRegistry(auto_describe=True)

NOTIFY_REQUESTS = Counter(
    "chatops_notify_requests", "Calls to /notify, by HTTP status answered", ["status"], registry=REGISTRY
)
DELIVERIES = Counter(
    "chatops_deliveries",
    "Deliveries to chat destinations, by destination kind and outcome (delivered, duplicate, "
    "suppressed_acknowledged, failed)",
    ["kind", "outcome"],
    registry=REGISTRY,
)
DELIVERY_RETRIES = Counter("chatops_delivery_retries", "Retried delivery attempts (429/5xx/network)", registry=REGISTRY)
INTERACTIONS = Counter(
    "chatops_interactions",
    "Chat interactions handled, by route and HTTP status",
    ["route", "status"],
    registry=REGISTRY,
)


def render() -> tuple[bytes, str]:
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
