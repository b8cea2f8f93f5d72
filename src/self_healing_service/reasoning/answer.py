"""The answer the model must give: its response schema, and the strict parser that checks it.

The schema is sent as ``generationConfig.responseSchema`` (Vertex AI's OpenAPI-subset
``Schema``), so a well-behaved model answers with exactly this JSON. The parser does not trust
that: it re-checks every field itself and rejects anything else with a reason code.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from self_healing_service.reasoning.actions import ACTIONS, ALL_PARAMETERS, ParameterError, check_parameters
from self_healing_service.reasoning.outcome import FallbackReason, PlanStep

MAX_HYPOTHESIS_CHARS = 600
MAX_EXPLANATION_CHARS = 1200
MAX_STEP_REASON_CHARS = 300

_TOP_KEYS = ("hypothesis", "explanation", "confidence", "steps")
_STEP_KEYS = ("action", "namespace", "parameters", "reason")
_PARAMETER_TYPES = {
    "pod": "STRING",
    "replicas": "INTEGER",
    "to_revision": "INTEGER",
    "container": "STRING",
    "factor": "NUMBER",
    "node": "STRING",
}


class AnswerRejected(Exception):
    """The model's answer is not an acceptable plan."""

    def __init__(self, reason: FallbackReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class PlanDraft:
    """A plan that is well-formed and uses known actions with valid parameters; not yet policy-checked."""

    hypothesis: str
    explanation: str
    confidence: float
    steps: tuple[PlanStep, ...]


def response_schema(allowed_actions: tuple[str, ...], max_steps: int) -> dict[str, Any]:
    """The Vertex AI ``Schema`` for the answer (types in the API's upper-case enum form)."""
    assert set(_PARAMETER_TYPES) == set(ALL_PARAMETERS), "parameter types out of step with the action vocabulary"
    step = {
        "type": "OBJECT",
        "properties": {
            "action": {"type": "STRING", "enum": list(allowed_actions), "description": "one allowed action"},
            "namespace": {"type": "STRING", "description": "the incident's namespace, repeated"},
            "parameters": {
                "type": "OBJECT",
                "description": "only the parameters the action takes",
                "properties": {name: {"type": kind} for name, kind in _PARAMETER_TYPES.items()},
            },
            "reason": {"type": "STRING", "maxLength": MAX_STEP_REASON_CHARS},
        },
        "required": list(_STEP_KEYS),
        "propertyOrdering": list(_STEP_KEYS),
    }
    return {
        "type": "OBJECT",
        "properties": {
            "hypothesis": {
                "type": "STRING",
                "maxLength": MAX_HYPOTHESIS_CHARS,
                "description": "likely root cause",
            },
            "explanation": {"type": "STRING", "maxLength": MAX_EXPLANATION_CHARS},
            "confidence": {"type": "NUMBER", "minimum": 0, "maximum": 1},
            "steps": {"type": "ARRAY", "minItems": 1, "maxItems": max_steps, "items": step},
        },
        "required": list(_TOP_KEYS),
        "propertyOrdering": list(_TOP_KEYS),
    }


def _exact_keys(obj: Mapping[str, Any], expected: tuple[str, ...], where: str) -> None:
    extra = sorted(set(obj) - set(expected))
    missing = [k for k in expected if k not in obj]
    if extra or missing:
        parts = []
        if missing:
            parts.append(f"missing {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected {', '.join(extra)}")
        raise AnswerRejected(FallbackReason.SCHEMA_VIOLATION, f"{where}: {'; '.join(parts)}")


def _text(obj: Mapping[str, Any], key: str, where: str, limit: int, *, required: bool = True) -> str:
    value = obj[key]
    if not isinstance(value, str):
        raise AnswerRejected(FallbackReason.SCHEMA_VIOLATION, f"{where}.{key}: expected a string")
    value = "".join(c for c in value if c.isprintable() or c == "\n").strip()
    if required and not value:
        raise AnswerRejected(FallbackReason.SCHEMA_VIOLATION, f"{where}.{key}: must not be empty")
    if len(value) > limit:
        raise AnswerRejected(FallbackReason.SCHEMA_VIOLATION, f"{where}.{key}: longer than {limit} characters")
    return value


def _step(raw: object, index: int) -> PlanStep:
    where = f"steps[{index}]"
    if not isinstance(raw, Mapping):
        raise AnswerRejected(FallbackReason.SCHEMA_VIOLATION, f"{where}: expected an object")
    _exact_keys(raw, _STEP_KEYS, where)
    action = raw["action"]
    if not isinstance(action, str):
        raise AnswerRejected(FallbackReason.SCHEMA_VIOLATION, f"{where}.action: expected a string")
    if action not in ACTIONS:
        raise AnswerRejected(FallbackReason.UNKNOWN_ACTION, f"{where}.action: {action[:64]!r} is not a known action")
    namespace = _text(raw, "namespace", where, 63)
    params = raw["parameters"]
    if not isinstance(params, Mapping):
        raise AnswerRejected(FallbackReason.SCHEMA_VIOLATION, f"{where}.parameters: expected an object")
    try:
        checked = check_parameters(action, {k: v for k, v in params.items() if v is not None})
    except ParameterError as exc:
        raise AnswerRejected(FallbackReason.BAD_PARAMETERS, f"{where}: {exc}") from exc
    reason = _text(raw, "reason", where, MAX_STEP_REASON_CHARS, required=False)
    return PlanStep(action=action, parameters=checked, namespace=namespace, reason=reason)


def _embeds_json_object(text: str) -> bool:
    """Whether a complete JSON object starts at the text's first ``{`` (with other text around it)."""
    start = text.find("{")
    if start < 0:
        return False
    try:
        json.JSONDecoder().raw_decode(text, start)
    except (json.JSONDecodeError, RecursionError):
        return False
    return True


def parse_answer(text: str, max_steps: int) -> PlanDraft:
    """Parse and check the model's answer text; :class:`AnswerRejected` says why it is unusable."""
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        preview = " ".join(text.split())[:80]
        if _embeds_json_object(text):
            # A JSON object wrapped in prose or code fences: the model wrote outside the schema.
            raise AnswerRejected(
                FallbackReason.SCHEMA_VIOLATION, f"the answer has text outside the JSON object: {preview!r}"
            ) from exc
        why = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
        raise AnswerRejected(
            FallbackReason.MALFORMED_RESPONSE, f"the answer is not valid JSON ({why}): {preview!r}"
        ) from exc
    if not isinstance(doc, Mapping):
        raise AnswerRejected(FallbackReason.SCHEMA_VIOLATION, f"answer: expected an object, got {type(doc).__name__}")
    _exact_keys(doc, _TOP_KEYS, "answer")
    confidence = doc["confidence"]
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not math.isfinite(confidence):
        raise AnswerRejected(FallbackReason.SCHEMA_VIOLATION, "answer.confidence: expected a number")
    if not 0.0 <= confidence <= 1.0:
        raise AnswerRejected(FallbackReason.SCHEMA_VIOLATION, f"answer.confidence: {confidence} is outside [0, 1]")
    steps = doc["steps"]
    if not isinstance(steps, list):
        raise AnswerRejected(FallbackReason.SCHEMA_VIOLATION, "answer.steps: expected a list")
    if not steps:
        raise AnswerRejected(FallbackReason.EMPTY_PLAN, "the model proposed no step")
    if len(steps) > max_steps:
        raise AnswerRejected(
            FallbackReason.SCHEMA_VIOLATION, f"answer.steps: {len(steps)} steps, at most {max_steps} allowed"
        )
    return PlanDraft(
        hypothesis=_text(doc, "hypothesis", "answer", MAX_HYPOTHESIS_CHARS),
        explanation=_text(doc, "explanation", "answer", MAX_EXPLANATION_CHARS),
        confidence=float(confidence),
        steps=tuple(_step(raw, i) for i, raw in enumerate(steps)),
    )
