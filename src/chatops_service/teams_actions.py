"""The signed Teams action links: ``GET`` shows a confirmation page, ``POST`` acts once.

A ``GET`` never acts, so link previews and prefetchers cannot use up a link. The
``POST`` from the page's button checks the signature and expiry, then claims the
link's nonce: the first claim acts, any later use is refused (HTTP 410). If the
healer cannot be reached the claim is released so the same link can be tried again.
Workflows cards carry no identity, so the person may type a name, recorded with the
action; the link itself is the credential (see the README's security model).
"""

from __future__ import annotations

import html
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from chatops_service.chat_actions import BUTTON_LABELS, control_command
from chatops_service.chat_control import ChatControl
from chatops_service.routing import RoutingConfig
from chatops_service.signed_links import LinkClaims, LinkError, verify_link_token
from chatops_service.state import StateStore
from healing_contract.control import Actor
from healing_contract.notification import ContractError

log = logging.getLogger("chatops_service.teams")


@dataclass(frozen=True)
class Page:
    status: int
    html: str


def _page(title: str, message: str, *, form: str = "") -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}"
        "button{font-size:1rem;padding:.5rem 1.2rem}</style></head>"
        f"<body><h1>{html.escape(title)}</h1><p>{html.escape(message)}</p>{form}</body></html>"
    )


def _nonce_key(claims: LinkClaims) -> str:
    return f"teams-link:{claims.nonce}"


class TeamsActionHandler:
    def __init__(
        self,
        *,
        signing_key: str,
        routing: RoutingConfig,
        state: StateStore,
        control: ChatControl,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = signing_key
        self._routing = routing
        self._state = state
        self._control = control
        self._clock = clock

    def _verify(self, token: str) -> LinkClaims | Page:
        if not self._key:
            return Page(404, _page("Not available", "Teams actions are not configured on this service."))
        try:
            claims = verify_link_token(self._key, token, now=self._clock())
        except LinkError as exc:
            log.warning("refused a Teams link", extra={"json_fields": {"event": "chat_refused", "reason": exc.reason}})
            status = 410 if exc.reason == "expired" else 403
            return Page(status, _page("Link refused", f"{exc}. Use the buttons on a newer card."))
        dest = self._routing.destinations.get(claims.ref.destination)
        if dest is None or dest.kind != "teams_workflow" or claims.action not in dest.actions:
            return Page(403, _page("Link refused", "This action is not enabled for that Teams destination."))
        if self._state.is_claimed(_nonce_key(claims)):
            return Page(410, _page("Link already used", "This link was already used; each link works once."))
        return claims

    def confirm_page(self, token: str) -> Page:
        checked = self._verify(token)
        if isinstance(checked, Page):
            return checked
        label = BUTTON_LABELS[checked.action]
        target = "/".join(p for p in (checked.ref.cluster, checked.ref.namespace, checked.ref.name) if p)
        message = f"{label} for incident {checked.ref.incident_id}" + (f" on {target}" if target else "") + "?"
        form = (
            "<form method=post><p><label>Your name (recorded with the action): "
            "<input name=name maxlength=80 autocomplete=name></label></p>"
            f"<button type=submit>{html.escape(label)}</button></form>"
        )
        return Page(200, _page(f"Confirm: {label}", message, form=form))

    def act(self, token: str, name: str) -> Page:
        checked = self._verify(token)
        if isinstance(checked, Page):
            return checked
        claims = checked
        ttl = max(60.0, claims.expires_at - self._clock() + 3600)
        if not self._state.claim(_nonce_key(claims), ttl):
            return Page(410, _page("Link already used", "This link was already used; each link works once."))
        display = " ".join(name.split())[:80] or "someone in Teams"
        actor = Actor(id=f"teams:{claims.ref.destination}", display=display, source="teams")
        try:
            command = control_command(claims.action, claims.ref, actor, f"teams:{claims.nonce}")
        except ContractError as exc:
            return Page(400, _page("Cannot do that", str(exc)))
        outcome = self._control.run(command)
        if outcome.duplicate:
            return Page(410, _page("Link already used", "This link was already used; each link works once."))
        if outcome.unreachable:
            self._state.release(_nonce_key(claims))
            return Page(502, _page("Not done", f"{outcome.text} The link still works; try again shortly."))
        if not outcome.ok:
            return Page(409, _page("Not done", outcome.text))
        return Page(200, _page("Done", f"{display} {outcome.text}"))
