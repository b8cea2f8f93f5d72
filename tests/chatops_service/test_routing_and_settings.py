"""The routing file and the settings are validated at start-up with messages that say what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from chatops_service.routing import RoutingError, load_routing_file, load_routing_text
from chatops_service.settings import Settings, SettingsError
from healing_contract.notification import parse_notification

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "chatops" / "routing.example.yaml"
EXAMPLE_SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-1",
    "SLACK_WEBHOOK_PAYMENTS": "https://hooks.slack.com/services/T/B/X",
    "TEAMS_WORKFLOW_OPS": "https://prod-01.westeurope.logic.azure.com/workflows/1/triggers/manual/paths/invoke?sig=x",
}


def _notification(load, **target: str) -> object:
    doc = load("notification_acted_high_cpu.json")
    doc["target"].update(target)
    return doc


def test_example_routing_file_is_valid_and_routes_as_documented(load) -> None:
    routing = load_routing_file(str(EXAMPLE), EXAMPLE_SECRETS)
    assert set(routing.destinations) == {"oncall-slack", "payments-slack", "ops-teams"}
    assert routing.destinations["oncall-slack"].secret == "xoxb-1"

    def names(doc: dict) -> list[str]:
        return [d.name for d in routing.destinations_for(parse_notification(doc))]

    critical_prod = load("notification_acted_high_cpu.json")  # critical, prod-gke, label team=checkout
    assert names(critical_prod) == ["oncall-slack", "ops-teams"]
    payments = load("notification_dry_run_crash_loop.json")
    payments["incident"]["severity"] = "warning"
    assert names(payments) == ["payments-slack"]
    held = load("notification_held_for_approval_anomaly.json")  # warning, outcome held_for_approval
    assert names(held) == ["oncall-slack", "ops-teams"]
    quiet = load("notification_dry_run_crash_loop.json")
    quiet["incident"]["severity"] = "info"
    quiet["target"].update(namespace="batch", cluster="dev-gke", labels={})
    assert names(quiet) == ["oncall-slack"]  # default


def test_example_file_needs_its_secrets_set() -> None:
    with pytest.raises(RoutingError) as err:
        load_routing_file(str(EXAMPLE), {"SLACK_BOT_TOKEN": "xoxb-1"})
    message = str(err.value)
    assert "environment variable SLACK_WEBHOOK_PAYMENTS is not set" in message
    assert "environment variable TEAMS_WORKFLOW_OPS is not set" in message


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("- just a list", "must be a mapping"),
        ("version: 2\ndestinations: {}\ndefault: []", "version: expected 1"),
        ("version: 1\ndestinations:\n  a: {type: email}\ndefault: [a]", "destinations.a.type: expected one of"),
        (
            "version: 1\ndestinations:\n  a: {type: slack_webhook, webhook_url: 'https://hooks.slack.com/x'}\n"
            "default: [a]",
            "secrets must not be in this file",
        ),
        (
            "version: 1\ndestinations:\n  a: {type: slack_bot, bot_token_env: TOK}\ndefault: [a]",
            "channel: required for slack_bot",
        ),
        (
            "version: 1\ndestinations:\n  a: {type: slack_webhook, webhook_url_env: HOOK}\n"
            "routes:\n  - match: {severity: [urgent]}\n    destinations: [a]\ndefault: [a]",
            "'urgent' is not one of",
        ),
        (
            "version: 1\ndestinations:\n  a: {type: slack_webhook, webhook_url_env: HOOK}\n"
            "routes:\n  - match: {namespace: shop}\n    destinations: [b]\ndefault: [a]",
            "unknown destination 'b'",
        ),
        ("version: 1\ndestinations:\n  a: {type: slack_webhook, webhook_url_env: HOOK}\n", "default: required"),
        (
            "version: 1\ndestinations:\n  a: {type: slack_webhook, webhook_url_env: HOOK, allowed_groups: [S1]}\n"
            "default: [a]",
            "allowed_groups: needs type slack_bot",
        ),
        (
            "version: 1\ndestinations:\n  a: {type: slack_webhook, webhook_url_env: HOOK, allowed_users: [alice]}\n"
            "default: [a]",
            "is not a Slack user ID",
        ),
        (
            "version: 1\ndestinations:\n  a: {type: slack_webhook, webhook_url_env: TOK}\ndefault: [a]",
            "TOK does not hold an http(s) URL",
        ),
        ("version: 1\ndestinations: {a: [", "not valid YAML"),
    ],
)
def test_invalid_routing_is_refused_with_a_clear_message(yaml_text: str, expected: str) -> None:
    env = {"TOK": "xoxb-1", "HOOK": "https://hooks.slack.com/services/T/B/X"}
    with pytest.raises(RoutingError) as err:
        load_routing_text(yaml_text, env)
    assert expected in str(err.value)


def test_settings_list_every_problem(tmp_path: Path) -> None:
    routing = tmp_path / "routing.yaml"
    routing.write_text(EXAMPLE.read_text())
    env = {**EXAMPLE_SECRETS, "CHATOPS_ROUTING_FILE": str(routing), "CHATOPS_ROUTES": "all"}
    with pytest.raises(SettingsError) as err:
        Settings.from_env(env)
    message = str(err.value)
    for name in (
        "CHATOPS_NOTIFY_AUDIENCE",
        "CHATOPS_HEALER_SERVICE_ACCOUNTS",
        "CHATOPS_LINK_SIGNING_KEY",
        "SLACK_SIGNING_SECRET",
        "CHATOPS_HEALER_URL",
    ):
        assert name in message


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"CHATOPS_ROUTES": "everything"}, "CHATOPS_ROUTES: expected one of notify, interactions, all"),
        ({"CHATOPS_AUTH_DISABLED": "maybe"}, "CHATOPS_AUTH_DISABLED: expected true or false"),
        ({"CHATOPS_DELIVERY_ATTEMPTS": "0"}, "CHATOPS_DELIVERY_ATTEMPTS: must be between 1"),
        ({"CHATOPS_BACKOFF_BASE_SECONDS": "soon"}, "is not a number"),
        ({"CHATOPS_STATE": "redis"}, "CHATOPS_STATE: expected one of memory, firestore"),
        ({"CHATOPS_ROUTING_FILE": "/nonexistent/routing.yaml"}, "cannot read the file"),
        ({"CHATOPS_ROUTING_FILE": ""}, "CHATOPS_ROUTING_FILE: required"),
        ({"CHATOPS_STATE": "firestore"}, "CHATOPS_FIRESTORE_PROJECT"),
        ({"CHATOPS_LINK_SIGNING_KEY": "short"}, "at least 16 characters"),
    ],
)
def test_bad_settings_are_named(base_env: dict[str, str], override: dict[str, str], expected: str) -> None:
    with pytest.raises(SettingsError) as err:
        Settings.from_env({**base_env, **override})
    assert expected in str(err.value)


def test_settings_hide_secrets_in_repr(base_env: dict[str, str]) -> None:
    settings = Settings.from_env(base_env)
    text = repr(settings)
    assert "xoxb-test-oncall" not in text
    assert base_env["SLACK_SIGNING_SECRET"] not in text
    assert base_env["CHATOPS_LINK_SIGNING_KEY"] not in text
    assert settings.slack_api_base_url.endswith("/api/")
