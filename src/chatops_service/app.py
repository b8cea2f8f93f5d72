"""The Flask app: thin HTTP edges over the delivery and chat-control cores.

``CHATOPS_ROUTES`` selects the route groups one deployment serves:

- ``notify``: ``POST /notify`` (private; Google ID token of the healer's service account);
- ``interactions``: ``POST /slack/interactions``, ``POST /slack/commands``,
  ``GET|POST /teams/actions/<token>`` (public; Slack signatures, signed links);
- ``all``: both (local runs).

``GET /healthz`` is always served.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, g, jsonify, request

from chatops_service import metrics
from chatops_service.chat_control import ChatControl
from chatops_service.healer_client import GoogleIdTokenSource, HealerClient, TokenSource
from chatops_service.notifier import Notifier
from chatops_service.oidc import AuthError, CertificateCache, IdTokenVerifier, VerifierUnavailable
from chatops_service.settings import Settings
from chatops_service.slack_commands import SlackCommands
from chatops_service.slack_http import Reply
from chatops_service.slack_interactions import SlackInteractions
from chatops_service.slack_security import ChatAuthorizer, SlackRequestGuard
from chatops_service.state import FirestoreState, MemoryState, StateStore
from chatops_service.structured_log import configure_logging, current_trace, trace_id_from_header
from chatops_service.teams_actions import Page, TeamsActionHandler
from healing_contract.notification import ContractError, parse_notification

log = logging.getLogger("chatops_service.app")

MAX_BODY_BYTES = 1024 * 1024


def make_state(settings: Settings) -> StateStore:
    if settings.state_backend == "firestore":
        return FirestoreState(settings.firestore_project, settings.firestore_collection_prefix)
    return MemoryState()


def create_app(
    settings: Settings,
    *,
    state: StateStore | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    healer_token_source: TokenSource | None = None,
) -> Flask:
    """Build the app. ``state``/``sleep``/``clock``/``healer_token_source`` default to production ones."""
    configure_logging(settings.project_id)
    store = state if state is not None else make_state(settings)
    app = Flask("chatops_service")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    _warn_about_weak_settings(settings)

    @app.before_request
    def _trace() -> None:
        g.trace_token = current_trace.set(trace_id_from_header(request.headers.get("X-Cloud-Trace-Context")))

    @app.teardown_request
    def _untrace(_exc: BaseException | None) -> None:
        token = g.pop("trace_token", None)
        if token is not None:
            current_trace.reset(token)

    @app.get("/healthz")
    def healthz() -> Response:
        return jsonify({"ok": True, "routes": settings.routes})

    @app.get("/metrics")
    def metrics_route() -> Response:
        body, content_type = metrics.render()
        return Response(body, content_type=content_type)

    @app.after_request
    def _count(response: Response) -> Response:
        rule = request.url_rule.rule if request.url_rule is not None else ""
        if rule == "/notify":
            metrics.NOTIFY_REQUESTS.labels(str(response.status_code)).inc()
        elif rule.startswith(("/slack/", "/teams/")):
            metrics.INTERACTIONS.labels(rule, str(response.status_code)).inc()
        return response

    if settings.serves_notify:
        _add_notify(app, settings, store, sleep, clock)
    if settings.serves_interactions:
        _add_interactions(app, settings, store, clock, healer_token_source)
    return app


def _warn_about_weak_settings(settings: Settings) -> None:
    if settings.serves_notify and settings.auth_disabled:
        log.critical(
            "CHATOPS_AUTH_DISABLED=true: /notify accepts unauthenticated callers. Never deploy this setting.",
            extra={"json_fields": {"event": "auth_disabled"}},
        )
    if settings.serves_interactions and settings.healer_auth_disabled:
        log.warning("CHATOPS_HEALER_AUTH_DISABLED=true: control calls to the healer carry no ID token")
    if settings.routes != "all" and settings.state_backend == "memory":
        log.warning(
            "CHATOPS_STATE=memory with CHATOPS_ROUTES=%s: acknowledgements and link nonces are not shared "
            "between the public and private services; use CHATOPS_STATE=firestore",
            settings.routes,
        )


def _add_notify(
    app: Flask,
    settings: Settings,
    store: StateStore,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> None:
    notifier = Notifier(settings, store, sleep=sleep, clock=clock)
    verifier = None
    if not settings.auth_disabled:
        certs = CertificateCache(settings.oidc_certs_url, settings.http_timeout_seconds)
        verifier = IdTokenVerifier(certs, settings.notify_audience, settings.healer_service_accounts)

    @app.post("/notify")
    def notify() -> tuple[Response, int] | Response:
        if verifier is not None:
            try:
                verifier.verify(request.headers.get("Authorization"))
            except AuthError as exc:
                log.warning("refused /notify caller", extra={"json_fields": {"reason": str(exc)}})
                return jsonify({"error": str(exc)}), 401
            except VerifierUnavailable as exc:
                log.error("cannot verify /notify callers", extra={"json_fields": {"reason": str(exc)}})
                return jsonify({"error": f"{exc}; retry later"}), 503
        data = request.get_json(silent=True)
        if data is None:
            return jsonify({"error": "expected a JSON body (Content-Type: application/json)"}), 400
        try:
            notification = parse_notification(data)
        except ContractError as exc:
            return jsonify({"error": str(exc)}), 400
        report = notifier.notify(notification)
        body: dict[str, Any] = {
            "notification_id": report.notification_id,
            "deliveries": [r.to_dict() for r in report.records],
        }
        if report.ok:
            return jsonify(body)
        failed = [r.destination for r in report.records if r.failed]
        body["error"] = f"not delivered to: {', '.join(failed)}; retry later"
        response = jsonify(body)
        response.status_code = 502
        if report.retry_after is not None:
            response.status_code = 503
            response.headers["Retry-After"] = str(int(report.retry_after + 0.999))
        return response


def _add_interactions(
    app: Flask,
    settings: Settings,
    store: StateStore,
    clock: Callable[[], float],
    healer_token_source: TokenSource | None,
) -> None:
    token_source = healer_token_source
    if token_source is None and not settings.healer_auth_disabled:
        token_source = GoogleIdTokenSource(settings.healer_audience)
    healer = HealerClient(settings.healer_url, timeout=settings.healer_timeout_seconds, token_source=token_source)
    control = ChatControl(healer, store, on_acknowledged=Notifier(settings, store, clock=clock).refresh_thread_heads)
    guard = SlackRequestGuard(settings.slack_signing_secret, store, clock)
    # group lookups sit inside Slack's 3-second window: keep them short (members are cached for 5 minutes)
    authorizer = ChatAuthorizer(settings.slack_api_base_url, min(settings.http_timeout_seconds, 1.5))
    interactions = SlackInteractions(
        routing=settings.routing,
        guard=guard,
        authorizer=authorizer,
        control=control,
        slack_api_base_url=settings.slack_api_base_url,
        http_timeout=settings.http_timeout_seconds,
    )
    commands = SlackCommands(
        routing=settings.routing, guard=guard, authorizer=authorizer, control=control, healer=healer
    )
    teams = TeamsActionHandler(
        signing_key=settings.link_signing_key,
        routing=settings.routing,
        state=store,
        control=control,
        clock=clock,
    )

    def as_response(reply: Reply) -> tuple[Response, int]:
        return jsonify(reply.body), reply.status

    def as_page(page: Page) -> Response:
        response = Response(page.html, status=page.status, mimetype="text/html")
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Robots-Tag"] = "noindex"
        response.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
        )
        return response

    @app.post("/slack/interactions")
    def slack_interactions() -> tuple[Response, int]:
        return as_response(interactions.handle(request.get_data(cache=True), dict(request.headers)))

    @app.post("/slack/commands")
    def slack_commands() -> tuple[Response, int]:
        return as_response(commands.handle(request.get_data(cache=True), dict(request.headers)))

    @app.get("/teams/actions/<token>")
    def teams_confirm(token: str) -> Response:
        return as_page(teams.confirm_page(token))

    @app.post("/teams/actions/<token>")
    def teams_act(token: str) -> Response:
        return as_page(teams.act(token, request.form.get("name", "")))
