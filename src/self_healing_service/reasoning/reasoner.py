"""Reasoner: analyzer -> (cache | budget | circuit) -> Gemini on Vertex AI -> parser -> enforcer.

:meth:`Reasoner.reason` never raises and never executes anything. It returns a
:class:`ReasoningOutcome`: a validated plan with a disposition (``auto_run`` /
``hold_for_approval``) for the healer to push through its own guards, or a fallback with a
reason code, after which the healer uses its rules-based ladder as if this layer did not exist.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from self_healing_service.reasoning.analyzer import fingerprint, summarise
from self_healing_service.reasoning.answer import AnswerRejected, PlanDraft, parse_answer
from self_healing_service.reasoning.context import IncidentContext
from self_healing_service.reasoning.cost_control import AnswerCache, CallBudget, Circuit
from self_healing_service.reasoning.enforcer import enforce
from self_healing_service.reasoning.outcome import FallbackReason, ReasoningOutcome, Usage, fallback
from self_healing_service.reasoning.policy import ReasoningPolicy
from self_healing_service.reasoning.prompt import request_body
from self_healing_service.reasoning.vertex_client import (
    GenerateContentClient,
    TokenProvider,
    VertexBadResponse,
    VertexError,
    google_auth_token_provider,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _CachedAnswer:
    draft: PlanDraft
    model: str
    usage: Usage


class Reasoner:
    def __init__(
        self,
        policy: ReasoningPolicy,
        *,
        token_provider: TokenProvider | None = None,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``clock`` drives budgets, cache expiry and the circuit (tests move it by hand)."""
        self.policy = policy
        self._clock = clock
        self._budget = CallBudget(policy.max_calls_per_incident, policy.max_calls_per_hour, clock)
        self._cache: AnswerCache[_CachedAnswer] = AnswerCache(policy.cache_ttl_seconds, clock)
        self._circuit = Circuit(policy.circuit_failure_threshold, policy.circuit_open_seconds, clock)
        self._client = GenerateContentClient(
            base_url=policy.base_url,
            project=policy.project or "-",
            location=policy.location,
            model=policy.model,
            timeout_seconds=policy.timeout_seconds,
            max_response_bytes=policy.max_response_bytes,
            token_provider=token_provider or google_auth_token_provider(),
            session=session,  # its deadline always runs on the real monotonic clock
        )
        self._calls_lock = threading.Lock()
        self.http_calls = 0  # model calls actually sent, for metrics

    def reason(self, ctx: IncidentContext) -> ReasoningOutcome:
        """A plan or a fallback for this incident (an unexpected error gives ``internal_error``)."""
        try:
            outcome = self._reason(ctx)
        except Exception as exc:  # the healer must always get an outcome and carry on with its ladder
            log.exception("reasoning failed for incident %s", ctx.incident_id)
            outcome = fallback(ctx.incident_id, FallbackReason.INTERNAL_ERROR, f"{type(exc).__name__} while reasoning")
        if outcome.fallback:
            log.info(
                "reasoner fallback incident=%s reason=%s detail=%s",
                ctx.incident_id,
                outcome.fallback.reason,
                outcome.fallback.detail,
            )
        else:
            assert outcome.plan is not None
            log.info(
                "reasoner plan incident=%s disposition=%s confidence=%.2f steps=%s cached=%s",
                ctx.incident_id,
                outcome.disposition,
                outcome.plan.confidence,
                [s.describe() for s in outcome.plan.steps],
                outcome.plan.cached,
            )
        return outcome

    def _reason(self, ctx: IncidentContext) -> ReasoningOutcome:
        policy = self.policy
        if not policy.enabled:
            return fallback(ctx.incident_id, FallbackReason.DISABLED, "the reasoning layer is off")
        if policy.is_protected(ctx.namespace):
            return fallback(
                ctx.incident_id,
                FallbackReason.PROTECTED_NAMESPACE,
                f"namespace {ctx.namespace!r} is protected; the model is not asked",
            )
        key = fingerprint(ctx)
        cached = self._cache.get(key)
        if cached is not None:
            return enforce(
                cached.draft,
                ctx,
                policy,
                fingerprint=key,
                model=cached.model,
                latency_seconds=0.0,
                cached=True,
                usage=Usage(),
            )

        refused = self._circuit.allow()
        if refused:
            return fallback(ctx.incident_id, FallbackReason.CIRCUIT_OPEN, refused, key)
        refused = self._budget.try_acquire(ctx.incident_id)
        if refused:
            self._circuit.cancel()
            return fallback(ctx.incident_id, FallbackReason.RATE_LIMITED, refused, key)

        summary = summarise(ctx, policy.max_summary_bytes)
        body = request_body(policy, summary, ctx.namespace)
        serialised = json.dumps(body, ensure_ascii=False)
        leaked = [value for value in ctx.secret_values() if value in serialised]
        if leaked:
            self._circuit.cancel()
            return fallback(
                ctx.incident_id,
                FallbackReason.SECRET_IN_REQUEST,
                f"{len(leaked)} secret value(s) would have been sent; the model was not called",
                key,
            )

        with self._calls_lock:
            self.http_calls += 1
        try:
            answer = self._client.generate(body)
        except VertexBadResponse as exc:
            self._circuit.record_success()  # the service answered; the answer was unusable
            return fallback(ctx.incident_id, exc.reason, exc.detail, key)
        except VertexError as exc:
            self._circuit.record_failure()
            return fallback(ctx.incident_id, exc.reason, exc.detail, key)
        self._circuit.record_success()

        try:
            draft = parse_answer(answer.text, policy.max_steps)
        except AnswerRejected as rejected:
            return fallback(ctx.incident_id, rejected.reason, rejected.detail, key)
        model = answer.model_version or policy.model
        self._cache.put(key, _CachedAnswer(draft, model, answer.usage))
        return enforce(
            draft,
            ctx,
            policy,
            fingerprint=key,
            model=model,
            latency_seconds=answer.latency_seconds,
            cached=False,
            usage=answer.usage,
        )
