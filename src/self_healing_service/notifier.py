"""Send the versioned notification to the ChatOps service, with bounded retries."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any

import requests

from healing_contract.notification import DecisionInfo, IncidentInfo, Links, Notification, TargetInfo
from self_healing_service.errors import NotifyFailed
from self_healing_service.incident import Incident
from self_healing_service.settings import Settings

log = logging.getLogger(__name__)


def build_notification(
    incident: Incident,
    target: TargetInfo,
    decision: DecisionInfo,
    *,
    settings: Settings,
    evidence_url: str = "",
) -> Notification:
    anomaly = incident.observed_value if incident.kind == "anomaly" else None
    links = Links(
        incident=incident.url,
        logs=settings.logs_url_template.format(
            namespace=target.namespace, pod=target.pod, project_id=target.project_id or incident.project_id
        )
        if target.namespace
        else "",
        evidence=evidence_url,
    )
    identity = "|".join(
        (incident.incident_id, incident.state, target.display(), str(decision.step), decision.outcome, decision.action)
    )
    return Notification(
        notification_id=hashlib.sha256(identity.encode()).hexdigest()[:32],
        incident=IncidentInfo(
            incident_id=incident.incident_id,
            state=incident.state,
            policy_name=incident.policy_name,
            condition_name=incident.condition_name,
            severity=incident.severity,
            summary=incident.summary[:2000],
            url=incident.url,
            started_at=incident.started_at,
            ended_at=incident.ended_at,
            metric_type=incident.metric_type,
            observed_value=incident.observed_value,
            threshold_value=incident.threshold_value,
            anomaly_score=anomaly,
            model_version=incident.model_version,
            kind=incident.kind,
            documentation=incident.documentation[:2000],
            user_labels=dict(incident.user_labels),
        ),
        target=target,
        decision=decision,
        links=links,
        healer_instance=settings.instance_id,
    )


class ChatOpsNotifier:
    """POSTs notifications to ChatOps `/notify` with a Google ID token for its audience."""

    def __init__(self, settings: Settings, session: requests.Session | None = None) -> None:
        self._settings = settings
        self._session = session or requests.Session()
        self._token: tuple[str, float] | None = None
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self._settings.chatops_url)

    def _id_token(self) -> str:
        with self._lock:
            if self._token is not None and self._token[1] > time.time() + 60:
                return self._token[0]
            import google.auth.transport.requests
            from google.oauth2 import id_token

            audience = self._settings.chatops_audience or self._settings.chatops_url
            token = id_token.fetch_id_token(google.auth.transport.requests.Request(), audience)
            self._token = (token, time.time() + 3000)
            return token

    def send(self, notification: Notification, trace: str = "") -> int:
        """Deliver or raise :class:`NotifyFailed`. Returns the number of attempts used."""
        if not self.enabled:
            return 0
        url = f"{self._settings.chatops_url}/notify"
        body: dict[str, Any] = notification.to_dict()
        last_error = ""
        attempts = self._settings.notify_attempts
        for attempt in range(1, attempts + 1):
            headers = {"Content-Type": "application/json"}
            if trace:
                headers["X-Cloud-Trace-Context"] = trace
            try:
                if self._settings.chatops_id_token:
                    headers["Authorization"] = f"Bearer {self._id_token()}"
                response = self._session.post(
                    url, json=body, headers=headers, timeout=self._settings.notify_timeout_seconds
                )
                if 200 <= response.status_code < 300:
                    return attempt
                last_error = f"HTTP {response.status_code}: {response.text[:200]}"
                if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
                    break  # the contract was refused: retrying the same body cannot help
            except Exception as exc:  # connection errors, token minting errors
                last_error = f"{type(exc).__name__}: {exc}"
            if attempt < attempts:
                time.sleep(self._settings.notify_backoff_seconds * (2 ** (attempt - 1)))
        raise NotifyFailed(f"ChatOps notification {notification.notification_id} not delivered: {last_error}")
