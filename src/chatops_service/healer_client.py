"""Client for the healer's control API (see ``healing_contract.control``).

Every call carries a Google ID token for the healer's audience, minted with
``google.oauth2.id_token.fetch_id_token`` (the metadata server on Cloud Run) and
cached until shortly before it expires. Token minting can be switched off for
local runs (``CHATOPS_HEALER_AUTH_DISABLED=true``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from healing_contract.control import ControlCommand, ControlResult

TokenSource = Callable[[], str]


class HealerError(Exception):
    """The healer could not be reached or refused our credentials; the message is safe to show."""


class GoogleIdTokenSource:
    """Mints and caches ID tokens for one audience."""

    def __init__(self, audience: str, clock: Callable[[], float] = time.time) -> None:
        self._audience = audience
        self._clock = clock
        self._lock = threading.Lock()
        self._token = ""
        self._expires = 0.0

    def __call__(self) -> str:
        with self._lock:
            if self._token and self._clock() < self._expires - 300:
                return self._token
            from google.auth import jwt
            from google.auth.transport.requests import Request
            from google.oauth2 import id_token

            token = id_token.fetch_id_token(Request(), self._audience)
            claims = jwt.decode(token, verify=False)
            self._token = token
            self._expires = float(claims.get("exp", self._clock() + 600))
            return token


class HealerClient:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        token_source: TokenSource | None,
        session: requests.Session | None = None,
    ) -> None:
        self._base = base_url.rstrip("/")
        self._timeout = timeout
        self._token_source = token_source
        self._session = session or requests.Session()

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self._token_source is not None:
            try:
                headers["Authorization"] = f"Bearer {self._token_source()}"
            except Exception as exc:  # google-auth raises several types; all mean "no token"
                raise HealerError(f"could not mint an ID token for the healer: {exc}") from exc
        return headers

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            return self._session.request(
                method, f"{self._base}{path}", headers=self._headers(), timeout=self._timeout, **kwargs
            )
        except requests.Timeout as exc:
            raise HealerError("the healer did not answer in time; the command may still apply — check status") from exc
        except requests.RequestException as exc:
            raise HealerError(f"cannot reach the healer: {type(exc).__name__}") from exc

    def send(self, command: ControlCommand) -> ControlResult:
        """POST the command; 200/400/404/409 become a :class:`ControlResult`, anything else a HealerError."""
        resp = self._request("POST", "/control/v1/commands", data=json.dumps(command.to_dict()))
        body = _json(resp)
        if resp.status_code in (401, 403):
            raise HealerError(f"the healer refused ChatOps's credentials (HTTP {resp.status_code})")
        if resp.status_code == 200:
            return ControlResult(
                ok=bool(body.get("ok", True)),
                command=str(body.get("command", command.command)),
                detail=str(body.get("detail", "")),
                data=dict(body.get("data") or {}),
            )
        if resp.status_code in (400, 404, 409):
            detail = str(body.get("detail") or body.get("error") or resp.text[:300])
            return ControlResult(ok=False, command=command.command, detail=detail, data={"status": resp.status_code})
        raise HealerError(f"the healer answered HTTP {resp.status_code}")

    def status(self) -> dict[str, Any]:
        return self._get("/control/v1/status", {})

    def history(self, namespace: str, name: str, limit: int = 10) -> dict[str, Any]:
        return self._get("/control/v1/history", {"namespace": namespace, "name": name, "limit": limit})

    def _get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        resp = self._request("GET", path, params=params)
        if resp.status_code in (401, 403):
            raise HealerError(f"the healer refused ChatOps's credentials (HTTP {resp.status_code})")
        if resp.status_code != 200:
            body = _json(resp)
            raise HealerError(
                str(body.get("detail") or body.get("error") or f"the healer answered HTTP {resp.status_code}")
            )
        return _json(resp)


def _json(resp: requests.Response) -> dict[str, Any]:
    try:
        data = resp.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
