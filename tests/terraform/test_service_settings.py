"""The environment Terraform gives each Cloud Run service is what the service reads and accepts.

The env maps are read from the HCL, every Terraform expression in them is replaced by a
realistic value, and the services' own settings loaders parse the result.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from chatops_service.settings import Settings as ChatOpsSettings
from self_healing_service.settings import Settings as HealerSettings

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT_NUMBER = "123456789012"
URLS = {
    name: f"https://selfheal-dev-{name.replace('_', '-')}-{PROJECT_NUMBER}.europe-west1.run.app"
    for name in ("healer", "chatops_notify", "chat_interactions")
}
# Values of the expressions the env maps use, as they would be after apply.
SAMPLES = {
    "local.urls.healer": URLS["healer"],
    "local.urls.chatops_notify": URLS["chatops_notify"],
    "local.urls.chat_interactions": URLS["chat_interactions"],
    "module.push_delivery.push_service_account_email": "selfheal-dev-push@selfheal-dev.iam.gserviceaccount.com",
    "google_service_account.chat_interactions.email": "selfheal-dev-chat@selfheal-dev.iam.gserviceaccount.com",
    "google_service_account.healer.email": "selfheal-dev-healer@selfheal-dev.iam.gserviceaccount.com",
    "tostring(var.healer_dry_run)": "true",
    "module.healer_database.name": "selfheal-dev-ledger",
    "var.project_id": "selfheal-dev",
    "module.evidence_bucket.name": "selfheal-dev-selfheal-dev-evidence",
    'module.ml_platform.table_ids["healing_actions"]': "selfheal-dev.selfheal_dev.healing_actions",
    "var.chatops_routing_file": "",  # set per test
}


def _resolve(value: Any, samples: dict[str, str]) -> str:
    text = str(value)

    def substitute(match: re.Match[str]) -> str:
        expression = match.group(1)
        assert expression in samples, f"no sample value for ${{{expression}}}"
        return samples[expression]

    return re.sub(r"\$\{([^{}]+)\}", substitute, text)


def _env(tf: Any, local: str, samples: dict[str, str]) -> dict[str, str]:
    raw = tf.module("self_healing").locals()[local]
    return {name: _resolve(value, samples) for name, value in raw.items()}


def _settings_source(package: str) -> str:
    return (REPO_ROOT / "src" / package / "settings.py").read_text(encoding="utf-8")


def test_every_healer_variable_is_one_the_healer_reads(tf: Any) -> None:
    source = _settings_source("self_healing_service")
    for name in _env(tf, "healer_env", SAMPLES):
        assert f'"{name}"' in source, f"the healer does not read {name}"
    assert '"HEALER_POLICY_FILE"' in source


def test_the_healer_accepts_its_terraform_environment(tf: Any) -> None:
    settings = HealerSettings.from_env(_env(tf, "healer_env", SAMPLES))
    assert settings.push_audience == URLS["healer"]
    assert settings.push_service_accounts == (SAMPLES["module.push_delivery.push_service_account_email"],)
    assert settings.control_service_accounts == (SAMPLES["google_service_account.chat_interactions.email"],)
    assert (settings.ledger, settings.kube_mode, settings.dry_run) == ("firestore", "gke", True)
    assert settings.firestore_database == "selfheal-dev-ledger"
    assert settings.chatops_url == settings.chatops_audience == URLS["chatops_notify"]
    assert settings.evidence_location.startswith("gs://")
    assert settings.actions_table == "selfheal-dev.selfheal_dev.healing_actions"


def _routing_file(tmp_path: Path, destination_env: dict[str, str]) -> Path:
    kinds = {
        "SLACK_BOT_TOKEN": "slack_bot",
        "SLACK_WEBHOOK_URL": "slack_webhook",
        "TEAMS_WORKFLOW_URL": "teams_workflow",
    }
    keys = {"slack_bot": "bot_token_env", "slack_webhook": "webhook_url_env", "teams_workflow": "workflow_url_env"}
    lines = ["version: 1", "destinations:"]
    for env_name in destination_env:
        kind = kinds[env_name]
        lines += [f"  {kind}:", f"    type: {kind}", f"    {keys[kind]}: {env_name}"]
        if kind.startswith("slack"):
            lines += ["    channel: C0123ALERTS", "    allowed_users: [U0LEADSRE1]"]
    lines += ["routes: []", f"default: [{', '.join(kinds[e] for e in destination_env)}]"]
    path = tmp_path / "routing.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("routes", ["notify", "interactions"])
def test_chatops_accepts_its_terraform_environment(tf: Any, tmp_path: Path, routes: str) -> None:
    root = tf.module("self_healing")
    destinations = root.variables()["chatops_destination_secrets"]["default"]
    routing = _routing_file(tmp_path, destinations)
    env = _env(tf, "chatops_env", {**SAMPLES, "var.chatops_routing_file": str(routing)})
    call = root.module_call("chat_interactions" if routes == "interactions" else "chatops_notify")
    assert f'CHATOPS_ROUTES = "{routes}"' in call["env"]
    env["CHATOPS_ROUTES"] = routes
    # The secrets Cloud Run mounts from Secret Manager.
    secret_values = {
        "SLACK_SIGNING_SECRET": "8f742231b10e8888abcd99yyyzzz85a5",
        "CHATOPS_LINK_SIGNING_KEY": "a-link-signing-key-of-32-chars!!",
        "SLACK_BOT_TOKEN": "xoxb-1-2-3",
        "SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T0/B0/X",
        "TEAMS_WORKFLOW_URL": "https://prod-00.westeurope.logic.azure.com/workflows/1",
    }
    env.update(secret_values)

    source = _settings_source("chatops_service")
    for name in env:
        if name not in destinations:
            assert f'"{name}"' in source, f"ChatOps does not read {name}"

    settings = ChatOpsSettings.from_env(env)
    settings.validate()
    assert settings.routes == routes
    assert settings.state_backend == "firestore"
    assert settings.notify_audience == URLS["chatops_notify"]
    assert settings.healer_service_accounts == (SAMPLES["google_service_account.healer.email"],)
    assert settings.healer_url == settings.healer_audience == URLS["healer"]
    assert settings.public_url == URLS["chat_interactions"]


def test_chatops_refuses_to_start_without_a_destination_secret(tf: Any, tmp_path: Path) -> None:
    destinations = tf.module("self_healing").variables()["chatops_destination_secrets"]["default"]
    routing = _routing_file(tmp_path, destinations)
    env = _env(tf, "chatops_env", {**SAMPLES, "var.chatops_routing_file": str(routing)})
    env.update({"CHATOPS_ROUTES": "notify", "SLACK_SIGNING_SECRET": "x" * 32, "CHATOPS_LINK_SIGNING_KEY": "y" * 32})
    with pytest.raises(ValueError, match="SLACK_BOT_TOKEN"):
        ChatOpsSettings.from_env(env).validate()
