"""The loopback double and the recorded answers agree with Google's own generateContent client.

google-genai (installed with google-cloud-aiplatform) is pointed at the same loopback server:
if the double accepted only our own request shape, or the recordings were not real
GenerateContentResponse bodies, these tests would fail.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from self_healing_service.reasoning import IncidentContext, ReasoningPolicy
from self_healing_service.reasoning.analyzer import summarise
from self_healing_service.reasoning.answer import response_schema
from self_healing_service.reasoning.prompt import request_body
from self_healing_service.reasoning.vertex_client import VertexBadResponse, parse_generate_content

genai = pytest.importorskip("google.genai")
types = pytest.importorskip("google.genai.types")
oauth2 = pytest.importorskip("google.oauth2.credentials")

DATA = Path(__file__).resolve().parents[2] / "data" / "vertex"
TOKEN = "ya29.test-access-token-for-loopback"


def _sdk_client(base_url: str) -> Any:
    return genai.Client(
        vertexai=True,
        project="acme-prod",
        location="europe-west1",
        credentials=oauth2.Credentials(token=TOKEN),
        http_options=types.HttpOptions(base_url=base_url, api_version="v1"),
    )


def test_sdk_request_is_accepted_and_recorded_answer_parsed(vertex: Any) -> None:
    vertex.script("good_plan.json")
    client = _sdk_client(vertex.base_url)  # keep a reference: a collected client closes its connection pool
    response = client.models.generate_content(
        model="gemini-2.5-flash",
        contents="Incident summary (JSON): {}",
        config=types.GenerateContentConfig(
            system_instruction="answer with JSON",
            response_mime_type="application/json",
            response_schema=response_schema(("restart", "rollback"), 3),
        ),
    )
    assert json.loads(response.text)["confidence"] == 0.91
    assert response.usage_metadata.total_token_count == 2055
    (request,) = vertex.requests
    assert request.path.endswith("/publishers/google/models/gemini-2.5-flash:generateContent")


def test_our_request_has_the_sdk_shape(vertex: Any, make_context: Callable[..., IncidentContext]) -> None:
    vertex.script("good_plan.json")
    client = _sdk_client(vertex.base_url)
    client.models.generate_content(
        model="gemini-2.5-flash",
        contents="x",
        config=types.GenerateContentConfig(
            system_instruction="y",
            response_mime_type="application/json",
            response_schema=response_schema(("restart",), 3),
        ),
    )
    sdk_body = vertex.requests[0].json
    policy = ReasoningPolicy(enabled=True, project="acme-prod")
    ours = request_body(policy, summarise(make_context(), 8192), "shop")

    assert set(sdk_body) <= set(ours)
    assert sdk_body["contents"][0]["role"] == ours["contents"][0]["role"] == "user"
    assert set(sdk_body["contents"][0]["parts"][0]) == set(ours["contents"][0]["parts"][0]) == {"text"}
    assert set(sdk_body["generationConfig"]) - {"temperature"} <= set(ours["generationConfig"])
    assert sdk_body["generationConfig"]["responseSchema"]["type"] == ours["generationConfig"]["responseSchema"]["type"]


@pytest.mark.parametrize("path", sorted(p.name for p in DATA.glob("*.json") if not p.name.startswith("error_")))
def test_recordings_are_generate_content_responses(path: str) -> None:
    doc = json.loads((DATA / path).read_text())
    sdk = types.GenerateContentResponse.model_validate(doc)  # the SDK's own model of the response
    try:
        ours = parse_generate_content(doc, 0.0)
    except VertexBadResponse:
        assert sdk.candidates is None or sdk.candidates[0].finish_reason != types.FinishReason.STOP
        return
    assert sdk.candidates is not None
    assert ours.text == sdk.candidates[0].content.parts[0].text
    assert ours.usage.total_tokens == sdk.usage_metadata.total_token_count
