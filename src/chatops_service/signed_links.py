"""Signed, expiring, single-use action links for Teams cards (``Action.OpenUrl``).

Pure. A token is ``base64url(claims JSON) + "." + base64url(HMAC-SHA256(key, first part))``.
Claims: the chat action, the :class:`ActionRef`, a random nonce and the expiry
(epoch seconds). Single use is enforced by the caller, which records the nonce
in the state store before acting (see ``interactions_teams``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from chatops_service.chat_actions import COMMAND_FOR_ACTION, ActionRef
from healing_contract.notification import ContractError

LINK_PATH = "/teams/actions/"
MAX_TOKEN_CHARS = 2000


class LinkError(ValueError):
    """A link cannot be used; ``reason`` is one of malformed, bad_signature, expired."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class LinkClaims:
    action: str
    ref: ActionRef
    nonce: str
    expires_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: str, message: str) -> str:
    return _b64(hmac.new(key.encode("utf-8"), message.encode("ascii"), hashlib.sha256).digest())


def sign_link_token(key: str, action: str, ref: ActionRef, *, now: float, ttl_seconds: int, nonce: str = "") -> str:
    if action not in COMMAND_FOR_ACTION:
        raise ValueError(f"unknown action {action!r}")
    claims = {
        "a": action,
        "r": ref.to_compact(),
        "x": nonce or secrets.token_urlsafe(12),
        "e": int(now) + int(ttl_seconds),
    }
    body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode("utf-8"))
    return f"{body}.{_mac(key, body)}"


def link_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}{LINK_PATH}{token}"


def verify_link_token(key: str, token: str, *, now: float) -> LinkClaims:
    """Check signature first, then expiry; raise :class:`LinkError` saying which check failed."""
    if not token or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise LinkError("malformed", "this link is malformed")
    body, mac = token.split(".")
    if not hmac.compare_digest(_mac(key, body), mac):
        raise LinkError("bad_signature", "this link's signature is not valid")
    try:
        claims = json.loads(_unb64(body))
        action = claims["a"]
        ref = ActionRef.from_compact(claims["r"])
        nonce = claims["x"]
        expires_at = int(claims["e"])
    except (binascii.Error, ValueError, KeyError, TypeError, ContractError) as exc:
        raise LinkError("malformed", "this link's contents are malformed") from exc
    if action not in COMMAND_FOR_ACTION or not isinstance(nonce, str) or not nonce:
        raise LinkError("malformed", "this link names an unknown action")
    if now >= expires_at:
        raise LinkError("expired", "this link has expired")
    return LinkClaims(action=action, ref=ref, nonce=nonce, expires_at=expires_at)
