"""Pure parts: /selfheal parsing, Retry-After and backoff, trace ids, signed-link tokens, the entry point."""

from __future__ import annotations

import importlib
import json
import logging
import sys
import time

import pytest

from chatops_service.chat_actions import ActionRef
from chatops_service.retrying import Attempt, RetryPolicy, parse_retry_after, run_with_retries
from chatops_service.selfheal_command import CommandSyntaxError, format_duration, parse_duration, parse_selfheal
from chatops_service.signed_links import LinkError, sign_link_token, verify_link_token
from chatops_service.structured_log import CloudLoggingFormatter, current_trace, trace_id_from_header


@pytest.mark.parametrize(
    ("text", "verb", "target", "seconds"),
    [
        ("status", "status", None, 0),
        ("pause shop/checkout 30m", "pause", "*/shop/checkout", 1800),
        ("pause prod-gke/shop/checkout 1h30m", "pause", "prod-gke/shop/checkout", 5400),
        ("PAUSE shop/checkout 1d", "pause", "*/shop/checkout", 86400),
        ("resume shop/checkout", "resume", "*/shop/checkout", 0),
        ("history shop/checkout", "history", "*/shop/checkout", 0),
        ("", "help", None, 0),
    ],
)
def test_selfheal_commands_parse(text: str, verb: str, target: str | None, seconds: int) -> None:
    parsed = parse_selfheal(text)
    assert parsed.verb == verb
    assert (parsed.target.key() if parsed.target else None) == target
    assert parsed.duration_seconds == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("pause shop 1h", "is not <namespace>/<deployment>"),
        ("pause Shop/checkout 1h", "not a valid Kubernetes namespace name"),
        ("pause shop/checkout forever", "is not a duration"),
        ("pause shop/checkout 0m", "longer than zero"),
        ("history shop/checkout 500", "from 1 to 50"),
        ("status now", "takes no arguments"),
    ],
)
def test_selfheal_errors_say_what_is_wrong_and_show_usage(text: str, message: str) -> None:
    with pytest.raises(CommandSyntaxError) as err:
        parse_selfheal(text)
    assert message in str(err.value) and "Usage" in str(err.value)


def test_durations_round_trip() -> None:
    for text in ("45s", "30m", "2h", "1h30m", "7d"):
        assert format_duration(parse_duration(text)) == text


def test_retry_after_forms() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0


def test_retry_loop_backs_off_then_stops_at_the_attempt_limit() -> None:
    calls: list[int] = []
    sleeps: list[float] = []

    def send() -> Attempt:
        calls.append(1)
        return Attempt(ok=False, retryable=True, status=503, error="unavailable")

    policy = RetryPolicy(attempts=4, base_seconds=1.0, max_seconds=3.0)
    outcome = run_with_retries(send, policy, sleeps.append)
    assert not outcome.ok and outcome.attempts == 4 and len(calls) == 4
    assert sleeps == [1.0, 2.0, 3.0]


def test_permanent_errors_are_not_retried() -> None:
    sleeps: list[float] = []
    outcome = run_with_retries(lambda: Attempt(ok=False, status=404, error="gone"), RetryPolicy(), sleeps.append)
    assert (outcome.ok, outcome.attempts, sleeps) == (False, 1, [])


def test_trace_header_and_log_line() -> None:
    assert trace_id_from_header("105445aa7843bc8bf206b12000100000/1;o=1") == "105445aa7843bc8bf206b12000100000"
    assert trace_id_from_header("not a trace") == ""
    token = current_trace.set("abc123")
    try:
        record = logging.LogRecord("chatops_service.x", logging.WARNING, __file__, 1, "hello %s", ("you",), None)
        record.json_fields = {"destination": "oncall"}
        line = json.loads(CloudLoggingFormatter("p1").format(record))
    finally:
        current_trace.reset(token)
    assert line["severity"] == "WARNING" and line["message"] == "hello you" and line["destination"] == "oncall"
    assert line["logging.googleapis.com/trace"] == "projects/p1/traces/abc123"


def test_link_tokens_check_signature_before_expiry() -> None:
    ref = ActionRef(incident_id="0.i", destination="t", namespace="ns", name="d")
    token = sign_link_token("k" * 20, "undo", ref, now=time.time() - 100, ttl_seconds=10)
    with pytest.raises(LinkError) as err:
        verify_link_token("another-key-0000", token, now=time.time())
    assert err.value.reason == "bad_signature"
    with pytest.raises(LinkError) as err:
        verify_link_token("k" * 20, token, now=time.time())
    assert err.value.reason == "expired"
    fresh = sign_link_token("k" * 20, "undo", ref, now=time.time(), ttl_seconds=60)
    claims = verify_link_token("k" * 20, fresh, now=time.time())
    assert (claims.action, claims.ref) == ("undo", ref)


def test_entry_point_builds_the_app_from_the_environment(base_env, monkeypatch) -> None:
    for key, value in base_env.items():
        monkeypatch.setenv(key, value)
    sys.modules.pop("chatops_service.main", None)
    main = importlib.import_module("chatops_service.main")
    rules = {rule.rule for rule in main.app.url_map.iter_rules()}
    assert {"/notify", "/slack/interactions", "/slack/commands", "/teams/actions/<token>", "/healthz"} <= rules
    sys.modules.pop("chatops_service.main", None)


def test_entry_point_refuses_a_bad_environment(base_env, monkeypatch) -> None:
    for key, value in base_env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("SLACK_BOT_TOKEN_ONCALL")
    sys.modules.pop("chatops_service.main", None)
    with pytest.raises(ValueError, match="SLACK_BOT_TOKEN_ONCALL is not set"):
        importlib.import_module("chatops_service.main")
    sys.modules.pop("chatops_service.main", None)
