"""Cloud Monitoring incident notifications (schema 1.2), as a Pub/Sub channel delivers them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from local_scenario.alert_rules import AlertRule
from local_scenario.evaluator import AlertEvent

METRIC_DISPLAY = {
    "kubernetes.io/container/cpu/limit_utilization": "CPU limit utilization",
    "kubernetes.io/container/memory/limit_utilization": "Memory limit utilization",
    "kubernetes.io/container/restart_count": "Restart count",
    "custom.googleapis.com/healer/anomaly_score": "Anomaly score",
}


@dataclass(frozen=True)
class ClusterIdentity:
    project_id: str
    location: str
    cluster_name: str


def _severity(rule: AlertRule) -> str:
    return rule.severity.capitalize()


def incident_payload(event: AlertEvent, cluster: ClusterIdentity) -> dict[str, Any]:
    rule, key = event.rule, event.key
    project = cluster.project_id
    metric_name = METRIC_DISPLAY.get(rule.metric_type, rule.metric_type)
    state = event.state
    comparison = "above" if rule.comparison == "COMPARISON_GT" else "below"
    if state == "open":
        summary = (
            f"{metric_name} for {project} {key.workload} with metadata labels "
            f"{{top_level_controller_name={key.workload}}} is {comparison} the threshold of "
            f"{rule.threshold:.3f} with a value of {event.observed:.3f}."
        )
    else:
        summary = (
            f"{metric_name} for {project} {key.workload} with metadata labels "
            f"{{top_level_controller_name={key.workload}}} returned to normal with a value of {event.observed:.3f}."
        )
    labels = {
        "project_id": project,
        "location": cluster.location,
        "cluster_name": cluster.cluster_name,
        "namespace_name": key.namespace,
        "pod_name": key.pod,
        "container_name": key.container,
    }
    label_text = ", ".join(f"{k}={v}" for k, v in labels.items())
    url = f"https://console.cloud.google.com/monitoring/alerting/incidents/{event.incident_id}?project={project}"
    return {
        "version": "1.2",
        "incident": {
            "incident_id": event.incident_id,
            "scoping_project_id": project,
            "scoping_project_number": 0,
            "url": url,
            "severity": _severity(rule),
            "started_at": int(event.started_at),
            "ended_at": int(event.at) if state == "closed" else None,
            "state": state,
            "summary": summary,
            "apigee_url": "",
            "observed_value": f"{event.observed:.3f}",
            "threshold_value": f"{rule.threshold:g}",
            "resource_id": "",
            "resource_name": f"{project} Kubernetes Container labels {{{label_text}}}",
            "resource_display_name": key.container,
            "resource_type_display_name": "Kubernetes Container",
            "resource": {"type": rule.resource_type, "labels": labels},
            "metric": {"type": rule.metric_type, "displayName": metric_name, "labels": {}},
            "metadata": {
                "system_labels": {
                    "top_level_controller_name": key.workload,
                    "top_level_controller_type": "Deployment",
                },
                "user_labels": {},
            },
            "policy_name": rule.name,
            "policy_user_labels": {"healer": "enabled", "incident-kind": rule.kind},
            "condition_name": rule.condition_name(),
            "condition": {
                "name": f"projects/{project}/alertPolicies/{rule.name}/conditions/1",
                "displayName": rule.condition_name(),
                "conditionThreshold": {
                    "filter": f'resource.type = "{rule.resource_type}" AND metric.type = "{rule.metric_type}"',
                    "aggregations": [
                        {"alignmentPeriod": f"{rule.alignment_seconds:g}s", "perSeriesAligner": rule.aligner}
                    ],
                    "comparison": rule.comparison,
                    "thresholdValue": rule.threshold,
                    "duration": f"{rule.duration_seconds:g}s",
                    "trigger": {"count": 1},
                },
            },
            "documentation": {
                "content": rule.documentation,
                "mime_type": "text/markdown",
                "subject": f"[{rule.severity}] {key.workload} {rule.kind.replace('_', ' ')}",
            },
        },
    }
