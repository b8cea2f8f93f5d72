from __future__ import annotations

import json
from typing import Any

import pytest

from self_healing_service.reasoning.answer import AnswerRejected, parse_answer, response_schema
from self_healing_service.reasoning.outcome import FallbackReason


def _answer(steps: list[dict[str, Any]], **overrides: Any) -> str:
    doc: dict[str, Any] = {
        "hypothesis": "memory leak in 1.5.0",
        "explanation": "OOMKilled since the rollout",
        "confidence": 0.9,
        "steps": steps,
    }
    doc.update(overrides)
    return json.dumps(doc)


def _step(action: str, **parameters: Any) -> dict[str, Any]:
    return {"action": action, "namespace": "shop", "parameters": parameters, "reason": "because"}


def _rejected(text: str, max_steps: int = 3) -> AnswerRejected:
    with pytest.raises(AnswerRejected) as caught:
        parse_answer(text, max_steps)
    return caught.value


@pytest.mark.parametrize(
    ("action", "parameters", "expected"),
    [
        ("restart", {}, {}),
        ("delete_pod", {"pod": "checkout-7d9f8c6b5-x2x4z"}, {"pod": "checkout-7d9f8c6b5-x2x4z"}),
        ("scale_out", {"replicas": 4}, {"replicas": 4}),
        ("scale_out", {"replicas": 4.0}, {"replicas": 4}),
        ("rollback", {"to_revision": 0}, {"to_revision": 0}),
        ("raise_memory", {"container": "checkout", "factor": 2}, {"container": "checkout", "factor": 2.0}),
        ("raise_memory", {"container": "checkout", "factor": 4}, {"container": "checkout", "factor": 4.0}),
        ("drain_node", {"node": "gke-prod-pool-1-5f2a9c1e-k8rt"}, {"node": "gke-prod-pool-1-5f2a9c1e-k8rt"}),
        ("cleanup_evicted", {}, {}),
        ("cleanup_jobs", {}, {}),
        # Nulls for parameters the action does not take are what a schema-bound model may emit.
        ("restart", {"pod": None, "replicas": None}, {}),
    ],
)
def test_valid_steps_are_normalised(action: str, parameters: dict[str, Any], expected: dict[str, Any]) -> None:
    draft = parse_answer(_answer([_step(action, **parameters)]), 3)
    assert draft.steps[0].action == action
    assert dict(draft.steps[0].parameters) == expected
    assert draft.confidence == 0.9


@pytest.mark.parametrize(
    ("action", "parameters"),
    [
        ("restart", {"force": True}),
        ("delete_pod", {}),
        ("delete_pod", {"pod": "Bad_Name!"}),
        ("delete_pod", {"pod": "x", "namespace": "kube-system"}),
        ("scale_out", {"replicas": 0}),
        ("scale_out", {"replicas": 2.5}),
        ("scale_out", {"replicas": "3"}),
        ("scale_out", {"replicas": True}),
        ("scale_out", {"replicas": 100000}),
        ("rollback", {"to_revision": -1}),
        ("raise_memory", {"container": "checkout", "factor": 1}),
        ("raise_memory", {"container": "checkout", "factor": 4.5}),
        ("raise_memory", {"container": "checkout"}),
        ("drain_node", {"node": ""}),
    ],
)
def test_bad_parameters_are_rejected(action: str, parameters: dict[str, Any]) -> None:
    rejected = _rejected(_answer([_step(action, **parameters)]))
    assert rejected.reason is FallbackReason.BAD_PARAMETERS
    assert action in rejected.detail


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", FallbackReason.MALFORMED_RESPONSE),
        ("I think you should restart it.", FallbackReason.MALFORMED_RESPONSE),
        (_answer([_step("restart")]) + " Hope this helps!", FallbackReason.SCHEMA_VIOLATION),
        ("```json\n" + _answer([_step("restart")]) + "\n```", FallbackReason.SCHEMA_VIOLATION),
        ('{"hypothesis": "leak", "steps": [', FallbackReason.MALFORMED_RESPONSE),
        ("[" * 100000, FallbackReason.MALFORMED_RESPONSE),
        ("[]", FallbackReason.SCHEMA_VIOLATION),
        (_answer([_step("restart")], confidence="high"), FallbackReason.SCHEMA_VIOLATION),
        (_answer([_step("restart")], confidence=True), FallbackReason.SCHEMA_VIOLATION),
        (_answer([_step("restart")], confidence=1.5), FallbackReason.SCHEMA_VIOLATION),
        (_answer([_step("restart")]).replace("0.9", "NaN"), FallbackReason.SCHEMA_VIOLATION),
        (_answer([_step("restart")], hypothesis=""), FallbackReason.SCHEMA_VIOLATION),
        (_answer([_step("restart")], hypothesis="x" * 5000), FallbackReason.SCHEMA_VIOLATION),
        (_answer([_step("restart")], extra="run kubectl"), FallbackReason.SCHEMA_VIOLATION),
        (_answer([{"action": "restart", "namespace": "shop", "parameters": {}}]), FallbackReason.SCHEMA_VIOLATION),
        (_answer([{**_step("restart"), "command": "sh"}]), FallbackReason.SCHEMA_VIOLATION),
        (_answer([{**_step("restart"), "parameters": []}]), FallbackReason.SCHEMA_VIOLATION),
        (_answer([_step("restart")] * 4), FallbackReason.SCHEMA_VIOLATION),
        (_answer(["restart"]), FallbackReason.SCHEMA_VIOLATION),
        (_answer([]), FallbackReason.EMPTY_PLAN),
        (_answer([_step("kubectl_apply")]), FallbackReason.UNKNOWN_ACTION),
        (_answer([_step("restart"), _step("delete_namespace")]), FallbackReason.UNKNOWN_ACTION),
    ],
)
def test_unusable_answers_are_rejected_with_a_reason(text: str, reason: FallbackReason) -> None:
    rejected = _rejected(text)
    assert rejected.reason is reason
    assert rejected.detail


def test_response_schema_lists_only_allowed_actions_and_bounds_the_plan() -> None:
    schema = response_schema(("restart", "rollback"), 2)
    steps = schema["properties"]["steps"]
    assert steps["maxItems"] == 2 and steps["minItems"] == 1
    assert steps["items"]["properties"]["action"]["enum"] == ["restart", "rollback"]
    assert set(schema["required"]) == {"hypothesis", "explanation", "confidence", "steps"}
    assert schema["properties"]["confidence"] == {"type": "NUMBER", "minimum": 0, "maximum": 1}
