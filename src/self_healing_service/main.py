"""The healer's HTTP edge (Cloud Run): Pub/Sub push, health, and the control API.

Routes only map outcomes to status codes, the contract with Pub/Sub:
204 handled (acted, refused, duplicate, test notification); 400 malformed (dead letter);
401/403 authentication; 503 transient (Kubernetes API or state store unavailable, or
ChatOps unreachable) so Pub/Sub redelivers.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from flask import Flask, Response, g, jsonify, request

from healing_contract.control import ControlCommand, ControlResult, parse_control_command
from healing_contract.notification import ContractError
from self_healing_service.auth import AuthError, TokenVerifier
from self_healing_service.errors import TransientError
from self_healing_service.incident import (
    ConsoleTestNotification,
    Incident,
    MalformedMessage,
    parse_notification,
    parse_push_envelope,
)
from self_healing_service.ledger import Ledger, Silence
from self_healing_service.logging_setup import configure_logging, reset_trace, set_trace, trace_from_header
from self_healing_service.settings import Settings

log = logging.getLogger("self_healing_service")


def build_ledger(settings: Settings) -> Ledger:
    if settings.ledger == "firestore":
        from self_healing_service.ledger_firestore import FirestoreLedger

        return FirestoreLedger(
            settings.firestore_project, settings.firestore_database, settings.firestore_collection_prefix
        )
    from self_healing_service.ledger import InMemoryLedger

    return InMemoryLedger()


class _Lazy:
    """Builds the healer on first use, so /healthz answers before heavy clients load."""

    def __init__(self, settings: Settings, ledger: Ledger | None) -> None:
        self.settings = settings
        self._ledger = ledger
        self._healer: Any = None

    @property
    def ledger(self) -> Ledger:
        if self._ledger is None:
            self._ledger = build_ledger(self.settings)
        return self._ledger

    @property
    def healer(self) -> Any:
        if self._healer is None:
            from self_healing_service.audit import open_audit
            from self_healing_service.healer import Healer
            from self_healing_service.kube import ClusterConnector
            from self_healing_service.notifier import ChatOpsNotifier
            from self_healing_service.policy import load_policy

            s = self.settings
            policy = load_policy(s.policy_file)
            self._healer = Healer(
                s,
                policy,
                self.ledger,
                ClusterConnector(
                    mode=s.kube_mode,
                    kubeconfig=s.kubeconfig,
                    context=s.kube_context,
                    request_timeout=s.kube_request_timeout_seconds,
                    on_call=_count_kube_call,
                ),
                ChatOpsNotifier(s),
                open_audit(s.actions_table),
                reasoner=_reasoner(policy),
            )
        return self._healer


def _reasoner(policy: Any) -> Any:
    """The optional model-proposed-plan layer, when the policy file enables it (off by default)."""
    if not policy.reasoning or not policy.reasoning.get("enabled"):
        return None
    from self_healing_service.reasoning import Reasoner, policy_from_mapping

    return Reasoner(policy_from_mapping(policy.reasoning))


def _count_kube_call(call: Any) -> None:
    from self_healing_service import metrics

    metrics.KUBE_CALLS.labels(call.verb, call.resource, call.error or "none").inc()


def _text(status: int, message: str) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


def create_app(settings: Settings | None = None, *, ledger: Ledger | None = None) -> Flask:
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level)
    if settings.policy_file:
        from self_healing_service.policy import load_policy

        load_policy(settings.policy_file)  # validate at start-up: a bad file stops the service here
    app = Flask(__name__)
    state = _Lazy(settings, ledger)
    app.config["HEALER_STATE"] = state
    push_verifier = TokenVerifier(settings.oidc_certs_url, settings.push_audience, settings.push_service_accounts)
    control_verifier = TokenVerifier(settings.oidc_certs_url, settings.push_audience, settings.control_service_accounts)
    if settings.auth_disabled:
        log.critical(
            "AUTHENTICATION IS DISABLED (HEALER_AUTH_DISABLED=true): any caller can push incidents and "
            "use the control API. Use this only for local runs, never on Cloud Run."
        )
    if settings.dry_run:
        log.warning("dry-run mode: the healer decides and reports but makes no mutating Kubernetes call")

    def authenticate(verifier: TokenVerifier) -> Response | None:
        if settings.auth_disabled:
            return None
        try:
            g.caller = verifier.verify(request.headers.get("Authorization"))
        except AuthError as exc:
            log.warning("rejected request: %s", exc, extra={"fields": {"path": request.path, "status": exc.status}})
            return _text(exc.status, str(exc))
        return None

    @app.before_request
    def _trace() -> None:
        project = settings.firestore_project
        g.trace = request.headers.get("X-Cloud-Trace-Context", "")
        g.trace_token = set_trace(trace_from_header(g.trace, project))

    @app.teardown_request
    def _untrace(_exc: BaseException | None) -> None:
        token = g.pop("trace_token", None)
        if token is not None:
            reset_trace(token)

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify({"status": "ok", "dry_run": settings.dry_run})

    @app.get("/metrics")
    def metrics_route() -> Response:
        from self_healing_service import metrics

        body, content_type = metrics.render()
        return Response(body, mimetype=content_type.split(";")[0], content_type=content_type)

    @app.post("/")
    def push() -> Response:
        denied = authenticate(push_verifier)
        if denied is not None:
            return denied
        try:
            message = parse_push_envelope(request.get_data())
            incident = parse_notification(message.data)
        except MalformedMessage as exc:
            from self_healing_service import metrics

            metrics.MALFORMED.inc()
            log.error("malformed push message (answering 400 so it goes to the dead-letter topic): %s", exc)
            return _text(400, f"malformed message: {exc}")
        if isinstance(incident, ConsoleTestNotification):
            log.info("test notification acknowledged and ignored")
            return Response(status=204)
        try:
            result = state.healer.handle(incident, g.trace, message.data)
        except TransientError as exc:
            from self_healing_service import metrics

            metrics.TRANSIENT.labels(type(exc).__name__).inc()
            log.error(
                "transient failure, asking Pub/Sub to redeliver: %s",
                exc,
                extra={"fields": {"incident_id": incident.incident_id}},
            )
            return _text(503, f"temporarily unavailable: {exc}")
        log.debug("push handled: %s", result.status)
        return Response(status=204)

    # ------------------------------------------------------------ control API (ChatOps -> healer)
    @app.post("/control/v1/commands")
    def control_command() -> Response:
        denied = authenticate(control_verifier)
        if denied is not None:
            return denied
        try:
            body = json.loads(request.get_data() or b"null")
            command = parse_control_command(body)
        except (ValueError, ContractError) as exc:
            return _text(400, f"malformed command: {exc}")
        try:
            status, result = _apply_command(state, command)
        except TransientError as exc:
            return _text(503, f"temporarily unavailable: {exc}")
        log.info(
            "control command %s by %s: %s",
            command.command,
            command.actor.id,
            result.detail,
            extra={"fields": {"control": command.to_dict(), "ok": result.ok}},
        )
        return Response(json.dumps(result.to_dict()), status=status, mimetype="application/json")

    @app.get("/control/v1/status")
    def control_status() -> Response:
        denied = authenticate(control_verifier)
        if denied is not None:
            return denied
        now = time.time()
        try:
            silences = [s.__dict__ for s in state.ledger.list_silences(now)]
            approvals = [{k: v for k, v in a.items() if k != "raw"} for a in state.ledger.list_state("approvals")]
            recent = state.ledger.recent_decisions(limit=10)
        except TransientError as exc:
            return _text(503, f"temporarily unavailable: {exc}")
        return jsonify(
            {
                "dry_run": settings.dry_run,
                "silenced": silences,
                "paused": silences,
                "pending_approvals": approvals,
                "recent": recent,
            }
        )

    @app.get("/control/v1/history")
    def control_history() -> Response:
        denied = authenticate(control_verifier)
        if denied is not None:
            return denied
        namespace = request.args.get("namespace", "").strip()
        name = request.args.get("name", "").strip()
        cluster = request.args.get("cluster", "").strip() or "*"
        try:
            limit = max(1, min(100, int(request.args.get("limit", "20"))))
        except ValueError:
            return _text(400, "limit must be a whole number")
        if not namespace or not name:
            return _text(400, "namespace and name are required")
        rows = []
        if cluster == "*":
            rows = [
                r
                for r in state.ledger.recent_decisions(limit=500)
                if r.get("namespace") == namespace and r.get("target_name") == name
            ][:limit]
        else:
            rows = state.ledger.recent_decisions(target_key=f"{cluster}/{namespace}/{name}", limit=limit)
        return jsonify({"decisions": rows})

    return app


def _apply_command(state: _Lazy, command: ControlCommand) -> tuple[int, ControlResult]:
    ledger = state.ledger
    now = time.time()
    if not ledger.first_control_request(command.request_id, now):
        return 200, ControlResult(True, command.command, "already applied (duplicate request)", {"duplicate": True})
    actor = command.actor.display or command.actor.id
    target = command.target
    if command.command in ("silence", "pause"):
        assert target is not None
        duration = command.duration_seconds or 3600
        key = target.key()
        ledger.set_silence(
            Silence(key, now + duration, f"{actor} ({command.actor.source})", command.note or command.command)
        )
        return 200, ControlResult(
            True,
            command.command,
            f"{target.namespace}/{target.name} {command.command}d for {duration // 60} min by {actor}",
            {"until": now + duration, "target_key": key},
        )
    if command.command in ("unsilence", "resume"):
        assert target is not None
        existed = ledger.clear_silence(target.key())
        return 200, ControlResult(
            True,
            command.command,
            f"{target.namespace}/{target.name} resumed by {actor}"
            if existed
            else f"{target.namespace}/{target.name} was not paused or silenced",
        )
    if command.command == "acknowledge":
        ledger.put_state("acks", command.incident_id, {"incident_id": command.incident_id, "actor": actor, "at": now})
        return 200, ControlResult(True, command.command, f"incident {command.incident_id} acknowledged by {actor}")
    if command.command == "approve":
        decision = state.healer.approve(command.incident_id, f"{actor} ({command.actor.source})", _reparse)
        if decision is None:
            return 409, ControlResult(
                False, command.command, f"nothing is held for approval on incident {command.incident_id}"
            )
        return 200, ControlResult(
            decision.outcome == "acted",
            command.command,
            f"approved by {actor}: {decision.outcome}: {decision.detail}",
            {"outcome": decision.outcome},
        )
    if command.command == "undo":
        assert target is not None
        from self_healing_service.healer import Target
        from self_healing_service.kube import ClusterRef

        healer_target = Target(
            ClusterRef(target.project_id, target.location, target.cluster), target.namespace, target.name
        )
        summary = state.healer.undo_last_change(healer_target, actor)
        ok = not summary.startswith(("nothing", "not undone", "undo failed"))
        ledger.append_decision(
            {
                "decided_at": now,
                "outcome": "acted" if ok else "refused",
                "action": "undo",
                "detail": summary,
                "actor": actor,
                "target_key": healer_target.key(),
                "namespace": target.namespace,
                "target_name": target.name,
            }
        )
        return (200 if ok else 409), ControlResult(ok, command.command, summary)
    return 400, ControlResult(False, command.command, "unknown command")


def _reparse(raw: bytes) -> Incident:
    incident = parse_notification(raw)
    if not isinstance(incident, Incident):
        raise MalformedMessage("held incident is not an incident")
    return incident


_APP: Flask | None = None


def __getattr__(name: str) -> Flask:
    """`self_healing_service.main:app` for gunicorn, built from the environment on first access."""
    global _APP
    if name != "app":
        raise AttributeError(name)
    if _APP is None:
        _APP = create_app(Settings.from_env())
    return _APP
