"""Thin transport to Vertex AI's ``generateContent`` REST method (Gemini), with a hard deadline.

``POST {base_url}/v1/projects/{project}/locations/{location}/publishers/google/models/{model}``
``:generateContent`` with a bearer token. Only ``requests`` is imported at module level;
google-auth is imported when the default token provider is first used, so tests (and the
healer with reasoning off) never need credentials.

Errors are mapped to a few exception types that the reasoner turns into fallback reasons:
timeout, unavailable (5xx, 429, connection refused, no token), request_rejected (other 4xx),
malformed_response (a body that is not a usable GenerateContentResponse).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from urllib3.exceptions import ReadTimeoutError

from self_healing_service.reasoning.outcome import FallbackReason, Usage

TokenProvider = Callable[[], str]
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


class VertexError(Exception):
    reason: FallbackReason = FallbackReason.UNAVAILABLE

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class VertexTimeout(VertexError):
    reason = FallbackReason.TIMEOUT


class VertexUnavailable(VertexError):
    reason = FallbackReason.UNAVAILABLE


class VertexRejected(VertexError):
    reason = FallbackReason.REQUEST_REJECTED


class VertexBadResponse(VertexError):
    reason = FallbackReason.MALFORMED_RESPONSE


@dataclass(frozen=True)
class ModelAnswer:
    text: str
    finish_reason: str
    model_version: str
    usage: Usage
    latency_seconds: float


def google_auth_token_provider() -> TokenProvider:
    """Access tokens from Application Default Credentials (Cloud Run's service account), kept fresh."""
    lock = threading.Lock()
    state: dict[str, Any] = {}

    def token() -> str:
        import google.auth  # imported here: only the cloud path needs it
        import google.auth.transport.requests

        with lock:
            creds = state.get("credentials")
            if creds is None:
                creds, _project = google.auth.default(scopes=[CLOUD_PLATFORM_SCOPE])
                state["credentials"] = creds
            if not creds.valid:
                creds.refresh(google.auth.transport.requests.Request())
            return str(creds.token)

    return token


def _error_detail(status_code: int, body: bytes) -> str:
    """``HTTP 429 RESOURCE_EXHAUSTED: message`` from Google's error body, or the raw start of the body."""
    try:
        error = json.loads(body).get("error", {})
        status = str(error.get("status", ""))
        message = " ".join(str(error.get("message", "")).split())[:200]
        return f"HTTP {status_code} {status}: {message}".strip()
    except (ValueError, AttributeError):
        return f"HTTP {status_code}: {' '.join(body[:200].decode('utf-8', 'replace').split())}"


def _int(value: object) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def parse_generate_content(doc: object, latency_seconds: float) -> ModelAnswer:
    """The first candidate's text from a GenerateContentResponse, or :class:`VertexBadResponse`."""
    if not isinstance(doc, Mapping):
        raise VertexBadResponse("the response is not a JSON object")
    candidates = doc.get("candidates")
    if not isinstance(candidates, list) or not candidates:
        feedback = doc.get("promptFeedback")
        blocked = feedback.get("blockReason") if isinstance(feedback, Mapping) else None
        raise VertexBadResponse(f"the prompt was blocked ({blocked})" if blocked else "the response has no candidates")
    candidate = candidates[0]
    if not isinstance(candidate, Mapping):
        raise VertexBadResponse("candidates[0] is not an object")
    finish = str(candidate.get("finishReason") or "")
    if finish == "MAX_TOKENS":
        raise VertexBadResponse("the answer was cut off (finishReason MAX_TOKENS)")
    if finish not in ("STOP", ""):
        raise VertexBadResponse(f"the model stopped without an answer (finishReason {finish})")
    content = candidate.get("content")
    parts = content.get("parts") if isinstance(content, Mapping) else None
    if not isinstance(parts, list):
        raise VertexBadResponse("candidates[0].content.parts is missing")
    texts = [
        p["text"] for p in parts if isinstance(p, Mapping) and isinstance(p.get("text"), str) and not p.get("thought")
    ]
    text = "".join(texts).strip()
    if not text:
        raise VertexBadResponse("candidates[0] has no text part")
    usage = doc.get("usageMetadata") if isinstance(doc.get("usageMetadata"), Mapping) else {}
    assert isinstance(usage, Mapping)
    return ModelAnswer(
        text=text,
        finish_reason=finish or "STOP",
        model_version=str(doc.get("modelVersion") or ""),
        usage=Usage(
            prompt_tokens=_int(usage.get("promptTokenCount")),
            output_tokens=_int(usage.get("candidatesTokenCount")),
            total_tokens=_int(usage.get("totalTokenCount")),
        ),
        latency_seconds=latency_seconds,
    )


class GenerateContentClient:
    def __init__(
        self,
        *,
        base_url: str,
        project: str,
        location: str,
        model: str,
        timeout_seconds: float,
        max_response_bytes: int,
        token_provider: TokenProvider,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = (
            f"{base_url.rstrip('/')}/v1/projects/{project}/locations/{location}"
            f"/publishers/google/models/{model}:generateContent"
        )
        self._timeout = timeout_seconds
        self._max_bytes = max_response_bytes
        self._token = token_provider
        self._session = session or requests.Session()
        self._clock = clock

    def generate(self, body: Mapping[str, Any]) -> ModelAnswer:
        """One generateContent call within ``timeout_seconds`` in total (token, connect, wait and read).

        The exchange runs on a daemon thread so the deadline holds even when the server trickles
        bytes just fast enough to dodge socket timeouts; a late exchange is abandoned.
        """
        start = self._clock()
        deadline = start + self._timeout
        outcome: dict[str, Any] = {}
        finished = threading.Event()

        def exchange() -> None:
            try:
                outcome["value"] = self._exchange(body, deadline)
            except BaseException as exc:  # handed to the caller's thread as is
                outcome["error"] = exc
            finally:
                finished.set()

        threading.Thread(target=exchange, name="vertex-generate", daemon=True).start()
        if not finished.wait(max(deadline - self._clock(), 0.0)):
            raise VertexTimeout(f"no complete answer within {self._timeout:g} s")
        if "error" in outcome:
            raise outcome["error"]
        status, raw = outcome["value"]
        latency = self._clock() - start
        if status == 429 or status >= 500:
            raise VertexUnavailable(_error_detail(status, raw))
        if status != 200:
            raise VertexRejected(_error_detail(status, raw))
        try:
            doc = json.loads(raw)
        except ValueError as exc:
            raise VertexBadResponse("the response body is not JSON") from exc
        return parse_generate_content(doc, latency)

    def _exchange(self, body: Mapping[str, Any], deadline: float) -> tuple[int, bytes]:
        try:
            token = self._token()
        except Exception as exc:  # any credential failure means: no model today, use the ladder
            raise VertexUnavailable(f"could not get an access token: {type(exc).__name__}") from exc
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json; charset=utf-8"}
        remaining = max(deadline - self._clock(), 0.001)
        try:
            response = self._session.post(
                self.url, data=payload, headers=headers, timeout=(min(remaining, 10.0), remaining), stream=True
            )
            with response:
                return response.status_code, self._read(response, deadline)
        except requests.Timeout as exc:
            raise VertexTimeout(f"no answer within {self._timeout:g} s") from exc
        except requests.ConnectionError as exc:
            # requests reports a read timeout in the body as a ConnectionError wrapping urllib3's error.
            if exc.args and isinstance(exc.args[0], ReadTimeoutError):
                raise VertexTimeout(f"the answer took longer than {self._timeout:g} s") from exc
            raise VertexUnavailable(f"could not reach the model endpoint ({type(exc).__name__})") from exc
        except requests.RequestException as exc:
            raise VertexUnavailable(f"the request failed ({type(exc).__name__})") from exc

    def _read(self, response: requests.Response, deadline: float) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(chunk_size=4096):
            size += len(chunk)
            if size > self._max_bytes:
                raise VertexBadResponse(f"the response is larger than {self._max_bytes} bytes")
            if self._clock() > deadline:
                raise VertexTimeout(f"the answer took longer than {self._timeout:g} s")
            chunks.append(chunk)
        return b"".join(chunks)
