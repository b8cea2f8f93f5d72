"""Verify Google-signed OIDC tokens (Pub/Sub push, service-to-service calls).

Signature, expiry and audience are checked by google-auth; issuer, the caller's
``email`` (an allowlist) and ``email_verified`` are checked here, because google-auth
does not. Google's public certificates are cached for a few minutes so each request
does not fetch them again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

ISSUERS = ("https://accounts.google.com", "accounts.google.com")


class AuthError(Exception):
    """Authentication failed. ``status`` is 401 (no/invalid token) or 403 (valid token, wrong caller)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class TokenVerifier:
    def __init__(self, certs_url: str, audience: str, allowed_emails: Iterable[str], *, cache_seconds: float = 300.0):
        self._certs_url = certs_url
        self._audience = audience
        self._allowed = {e.strip().lower() for e in allowed_emails if e.strip()}
        self._cache_seconds = cache_seconds
        self._certs: tuple[dict[str, str], float] | None = None
        self._lock = threading.Lock()
        self._session: Any = None  # requests.Session, created on first use (keeps cold start small)

    def _fetch_certs(self, force: bool = False) -> dict[str, str]:
        with self._lock:
            if not force and self._certs is not None and self._certs[1] > time.monotonic():
                return self._certs[0]
            import requests

            if self._session is None:
                self._session = requests.Session()
            try:
                response = self._session.get(self._certs_url, timeout=5)
                response.raise_for_status()
                certs = response.json()
            except (requests.RequestException, ValueError) as exc:
                raise AuthError(f"cannot fetch token signing certificates: {exc}", 401) from exc
            if not isinstance(certs, dict) or "keys" in certs:
                raise AuthError("certificates URL must serve {key id: PEM certificate} (Google's v1 format)", 401)
            self._certs = (certs, time.monotonic() + self._cache_seconds)
            return certs

    def verify(self, authorization: str | None) -> dict[str, Any]:
        if not authorization:
            raise AuthError("missing Authorization header (expected 'Bearer <Google ID token>')", 401)
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("Authorization header must be 'Bearer <Google ID token>'", 401)
        claims = self._decode(token.strip())
        if claims.get("iss") not in ISSUERS:
            raise AuthError(f"token issuer {claims.get('iss')!r} is not Google", 401)
        email = str(claims.get("email") or "").lower()
        if not email or email not in self._allowed:
            raise AuthError(f"caller {email or '(no email claim)'} is not allowed", 403)
        if claims.get("email_verified") is not True:
            raise AuthError(f"caller {email} has no verified email", 403)
        return claims

    def _decode(self, token: str) -> dict[str, Any]:
        from google.auth import exceptions as gauth_exceptions
        from google.auth import jwt

        for attempt in (0, 1):
            try:
                return dict(
                    jwt.decode(
                        token,
                        certs=self._fetch_certs(force=attempt == 1),
                        audience=self._audience,
                        clock_skew_in_seconds=10,
                    )
                )
            except (ValueError, gauth_exceptions.GoogleAuthError) as exc:
                # an unknown key id may mean Google rotated its keys: refetch once
                if attempt == 0 and "certificate for key id" in str(exc).lower():
                    continue
                raise AuthError(f"invalid token: {exc}", 401) from exc
        raise AuthError("invalid token", 401)
