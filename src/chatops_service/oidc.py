"""Verify the Google ID token the healer sends to ``/notify``.

The token is an RS256 JWT signed by Google. We fetch Google's public certificates
(``CHATOPS_OIDC_CERTS_URL``; tests serve their own), cache them for the
``Cache-Control: max-age`` the server gives, and check with ``google.auth.jwt``:
signature, ``exp``/``iat``, ``aud``; then the issuer, ``email_verified`` and that
``email`` is one of the healer's service accounts (google-auth does not check those).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from google.auth import exceptions as google_auth_exceptions
from google.auth import jwt

ISSUERS = ("https://accounts.google.com", "accounts.google.com")
DEFAULT_CACHE_SECONDS = 300.0


class AuthError(Exception):
    """The caller is not who it must be; the message says which check failed (safe to return)."""


class VerifierUnavailable(Exception):
    """Google's signing certificates cannot be fetched: not the caller's fault, so answer 503."""


class CertificateCache:
    def __init__(self, url: str, timeout: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._url = url
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._certs: Mapping[str, str] = {}
        self._expires = 0.0

    def get(self, *, force: bool = False) -> Mapping[str, str]:
        with self._lock:
            if force or not self._certs or self._clock() >= self._expires:
                try:
                    resp = requests.get(self._url, timeout=self._timeout)
                    resp.raise_for_status()
                    data = resp.json()
                except (requests.RequestException, ValueError) as exc:
                    raise VerifierUnavailable(f"cannot fetch the token signing certificates: {exc}") from exc
                if not isinstance(data, dict) or not data:
                    raise VerifierUnavailable("the token signing certificates are not a {key id: certificate} object")
                self._certs = {str(k): str(v) for k, v in data.items()}
                match = re.search(r"max-age=(\d+)", resp.headers.get("Cache-Control", ""))
                self._expires = self._clock() + (float(match.group(1)) if match else DEFAULT_CACHE_SECONDS)
            return self._certs


class IdTokenVerifier:
    def __init__(self, certs: CertificateCache, audience: str, allowed_emails: tuple[str, ...]) -> None:
        self._certs = certs
        self._audience = audience
        self._allowed = {e.lower() for e in allowed_emails}

    def verify(self, authorization: str | None) -> dict[str, Any]:
        if not authorization:
            raise AuthError("missing Authorization header (expected 'Bearer <Google ID token>')")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("Authorization header must be 'Bearer <Google ID token>'")
        token = token.strip()
        try:
            kid = jwt.decode_header(token).get("kid")
        except (ValueError, TypeError) as exc:
            raise AuthError("the bearer token is not a JWT") from exc
        certs = self._certs.get()
        if kid and kid not in certs:  # keys rotate: refresh once before refusing
            certs = self._certs.get(force=True)
        try:
            claims = dict(jwt.decode(token, certs=certs, audience=self._audience, clock_skew_in_seconds=10))
        except (ValueError, google_auth_exceptions.GoogleAuthError) as exc:
            raise AuthError(f"invalid ID token: {exc}") from exc
        if claims.get("iss") not in ISSUERS:
            raise AuthError(f"invalid ID token: issuer {claims.get('iss')!r} is not Google")
        if claims.get("email_verified") is not True:
            raise AuthError("invalid ID token: email is not verified")
        email = str(claims.get("email", "")).lower()
        if email not in self._allowed:
            raise AuthError(f"caller {email or '(no email)'} is not an allowed healer service account")
        return claims
