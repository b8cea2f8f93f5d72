"""The thin edge to Slack and Teams: one HTTP attempt per call, reported as an :class:`Attempt`.

Retries are not done here (slack_sdk's own retry handlers are switched off) so
that :mod:`chatops_service.retrying` applies one policy, honouring ``Retry-After``,
to every destination, and so each attempt can be logged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse
from slack_sdk.webhook import WebhookClient

from chatops_service.retrying import Attempt, parse_retry_after, retryable_status

# Slack Web API errors (HTTP 200, ok=false) worth another attempt.
_RETRYABLE_SLACK_ERRORS = {
    "ratelimited",
    "rate_limited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
}


def _header(headers: Any, name: str) -> str | None:
    if not headers:
        return None
    for key, value in dict(headers).items():
        if str(key).lower() == name.lower():
            if isinstance(value, list):
                return str(value[0]) if value else None
            return str(value)
    return None


def _network_error(exc: BaseException) -> Attempt:
    return Attempt(ok=False, retryable=True, error=f"{type(exc).__name__}: {exc}")


class SlackWebhookSender:
    def __init__(self, url: str, timeout: float) -> None:
        self._client = WebhookClient(url, timeout=max(1, round(timeout)), retry_handlers=[])

    def post(self, payload: dict[str, Any]) -> Attempt:
        try:
            resp = self._client.send_dict(payload)
        except (OSError, ValueError) as exc:  # URLError, timeouts, refused connections
            return _network_error(exc)
        if resp.status_code == 200:
            return Attempt(ok=True, status=200)
        return Attempt(
            ok=False,
            retryable=retryable_status(resp.status_code),
            status=resp.status_code,
            error=f"Slack webhook answered {resp.status_code}: {str(resp.body)[:200]}",
            retry_after=parse_retry_after(_header(resp.headers, "Retry-After")),
        )


class SlackBotSender:
    """chat.postMessage / chat.update with a bot token, through slack_sdk's WebClient."""

    def __init__(self, token: str, base_url: str, timeout: float) -> None:
        self._client = WebClient(token=token, base_url=base_url, timeout=max(1, round(timeout)), retry_handlers=[])

    def _call(self, method: str, call: Callable[..., SlackResponse], **kwargs: Any) -> Attempt:
        try:
            resp = call(**kwargs)
        except SlackApiError as exc:
            status = exc.response.status_code
            error = ""
            if isinstance(exc.response.data, dict):
                error = str(exc.response.data.get("error", ""))
            return Attempt(
                ok=False,
                retryable=retryable_status(status) or error in _RETRYABLE_SLACK_ERRORS,
                status=status,
                error=f"Slack {method} failed: HTTP {status} {error}".strip(),
                retry_after=parse_retry_after(_header(exc.response.headers, "Retry-After")),
            )
        except (OSError, ValueError) as exc:
            return _network_error(exc)
        data = resp.data if isinstance(resp.data, dict) else {}
        return Attempt(ok=True, status=resp.status_code, data=data)

    def post_message(
        self,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]],
        *,
        thread_ts: str = "",
        broadcast: bool = False,
    ) -> Attempt:
        args: dict[str, Any] = {"channel": channel, "text": text}
        if blocks:
            args["blocks"] = blocks
        if thread_ts:
            args["thread_ts"] = thread_ts
            if broadcast:
                args["reply_broadcast"] = True
        return self._call("chat.postMessage", self._client.chat_postMessage, **args)

    def update_message(self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]]) -> Attempt:
        return self._call("chat.update", self._client.chat_update, channel=channel, ts=ts, text=text, blocks=blocks)

    def usergroup_members(self, usergroup: str) -> Attempt:
        try:
            resp = self._client.usergroups_users_list(usergroup=usergroup)
        except SlackApiError as exc:
            return Attempt(ok=False, status=exc.response.status_code, error=f"usergroups.users.list failed: {exc}")
        except (OSError, ValueError) as exc:
            return _network_error(exc)
        users = resp.data.get("users", []) if isinstance(resp.data, dict) else []
        return Attempt(ok=True, status=resp.status_code, data=[str(u) for u in users])


class TeamsWorkflowSender:
    def __init__(self, url: str, timeout: float, session: requests.Session | None = None) -> None:
        self._url = url
        self._timeout = timeout
        self._session = session or requests.Session()

    def post(self, payload: dict[str, Any]) -> Attempt:
        try:
            resp = self._session.post(self._url, json=payload, timeout=self._timeout)
        except requests.RequestException as exc:
            return _network_error(exc)
        if 200 <= resp.status_code < 300:  # Workflows answer 202: the flow was triggered
            return Attempt(ok=True, status=resp.status_code)
        return Attempt(
            ok=False,
            retryable=retryable_status(resp.status_code),
            status=resp.status_code,
            error=f"Teams Workflows answered {resp.status_code}: {resp.text[:200]}",
            retry_after=parse_retry_after(resp.headers.get("Retry-After")),
        )
