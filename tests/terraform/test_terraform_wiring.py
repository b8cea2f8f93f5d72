"""Wiring of the alert path and of the security model, read from the HCL."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ALERT_RULES = Path(__file__).resolve().parents[2] / "config" / "alert_rules.yaml"
HEALING_LABELS = (
    "resource.label.namespace_name",
    "resource.label.pod_name",
    "resource.label.container_name",
    "metadata.system_labels.top_level_controller_name",
    "metadata.system_labels.top_level_controller_type",
)


def _rules() -> list[dict[str, Any]]:
    policies: list[dict[str, Any]] = yaml.safe_load(ALERT_RULES.read_text(encoding="utf-8"))["policies"]
    return policies


# ---------------------------------------------------------------- alert policies


def test_every_policy_notifies_the_pubsub_channel_on_the_alert_topic(tf: Any) -> None:
    alerting = tf.module("alerting")
    policy = alerting.resource("google_monitoring_alert_policy", "healing")
    assert tf.expr(policy["for_each"]) == "local.policies"
    assert policy["notification_channels"] == ["${google_monitoring_notification_channel.pubsub.id}"]

    channel = alerting.resource("google_monitoring_notification_channel", "pubsub")
    assert channel["type"] == "pubsub"
    assert tf.expr(channel["labels"]["topic"]) == "var.alert_topic_id"

    call = tf.module("self_healing").module_call("alerting")
    assert tf.expr(call["alert_topic_id"]) == "module.push_delivery.topic_id"
    assert tf.expr(tf.module("push_delivery").outputs()["topic_id"]["value"]) == "google_pubsub_topic.alerts.id"


def test_policies_come_from_the_shared_rules_file(tf: Any) -> None:
    alerting = tf.module("alerting")
    assert tf.expr(alerting.locals()["rules"]) == "yamldecode(file(var.alert_rules_file))"
    call = tf.module("self_healing").module_call("alerting")
    assert tf.expr(call["alert_rules_file"]) == "var.alert_rules_file"
    for env in tf.environment_names:
        passed = tf.environment(env).module_call("self_healing")["alert_rules_file"]
        assert passed.endswith("/config/alert_rules.yaml")


def test_every_field_the_policy_reads_is_in_every_rule(tf: Any) -> None:
    text = (tf.module("alerting").path / "main.tf").read_text(encoding="utf-8")
    policy_text = text[text.index('resource "google_monitoring_alert_policy" "healing"') :]
    optional = set(re.findall(r"try\(each\.value\.([a-z_]+)", policy_text))
    required = set(re.findall(r"each\.value\.([a-z_]+)", policy_text)) - optional
    assert {"kind", "severity", "metric_type", "threshold", "documentation", "auto_close_seconds"} <= required
    for rule in _rules():
        missing = required - set(rule)
        assert not missing, f"rule {rule.get('name')} lacks {sorted(missing)}"


def test_policies_carry_routing_labels_runbook_and_auto_close(tf: Any) -> None:
    policy = tf.module("alerting").resource("google_monitoring_alert_policy", "healing")
    labels = tf.expr(policy["user_labels"])
    assert 'healer = "enabled"' in labels
    assert '"incident-kind" = each.value.kind' in labels
    documentation = tf.block(policy, "documentation")
    assert tf.expr(documentation["content"]) == "each.value.documentation"
    assert documentation["mime_type"] == "text/markdown"
    assert tf.block(policy, "alert_strategy")["auto_close"] == "${each.value.auto_close_seconds}s"
    assert tf.expr(policy["severity"]) == "each.value.severity"
    for rule in _rules():
        assert rule["documentation"].strip(), f"rule {rule['name']} has no runbook text"
        assert rule["auto_close_seconds"] > 0
        assert re.fullmatch(r"[a-z0-9_-]+", rule["kind"]), f"kind {rule['kind']} is not a valid label value"


def test_no_cross_series_reducer_loses_the_workload_labels(tf: Any) -> None:
    alerting = tf.module("alerting")
    group_by = alerting.locals()["healing_group_by"]
    assert set(HEALING_LABELS) <= set(group_by)
    condition = tf.block(
        tf.block(alerting.resource("google_monitoring_alert_policy", "healing"), "conditions"), "condition_threshold"
    )
    aggregation = tf.block(condition, "aggregations")
    assert tf.expr(aggregation["cross_series_reducer"]) == "try(each.value.cross_series_reducer, null)"
    assert "local.healing_group_by" in aggregation["group_by_fields"]
    for rule in _rules():
        if rule.get("cross_series_reducer"):
            assert set(HEALING_LABELS) <= set(rule.get("group_by", [])) | set(group_by)


def test_anomaly_policy_waits_for_its_metric_descriptor(tf: Any) -> None:
    ml = tf.module("ml_platform")
    descriptor = ml.resource("google_monitoring_metric_descriptor", "anomaly_score")
    assert tf.expr(descriptor["type"]) == "local.anomaly_metric_type"
    metric_type = ml.locals()["anomaly_metric_type"]
    assert metric_type == "custom.googleapis.com/healer/anomaly_score"
    assert (descriptor["metric_kind"], descriptor["value_type"]) == ("GAUGE", "DOUBLE")
    assert {label["key"] for label in descriptor["labels"]} == {"model_version", "controller_name", "controller_kind"}

    anomaly_rules = [r for r in _rules() if r["metric_type"] == metric_type]
    assert anomaly_rules and all(r["resource_type"] == "k8s_container" for r in anomaly_rules)

    call = tf.module("self_healing").module_call("alerting")
    assert tf.expr(call["metric_descriptor_ids"]) == "module.ml_platform.metric_descriptor_ids"
    alerting = tf.module("alerting")
    gate = alerting.resource("terraform_data", "metric_descriptors_ready")
    assert tf.expr(gate["input"]) == "var.metric_descriptor_ids"
    policy = alerting.resource("google_monitoring_alert_policy", "healing")
    assert "${terraform_data.metric_descriptors_ready}" in policy["depends_on"]


# ---------------------------------------------------------------- push delivery


def test_push_subscription_targets_the_healer_with_an_oidc_token(tf: Any) -> None:
    push = tf.module("push_delivery")
    subscription = push.resource("google_pubsub_subscription", "push")
    assert tf.expr(subscription["topic"]) == "google_pubsub_topic.alerts.id"
    config = tf.block(subscription, "push_config")
    assert tf.expr(config["push_endpoint"]) == "var.push_endpoint"
    token = tf.block(config, "oidc_token")
    assert tf.expr(token["service_account_email"]) == "google_service_account.push.email"
    assert tf.expr(token["audience"]) == "var.push_audience"

    root = tf.module("self_healing")
    call = root.module_call("push_delivery")
    assert call["push_endpoint"] == "${local.urls.healer}${var.healer_push_path}"
    assert tf.expr(call["push_audience"]) == "local.urls.healer"
    urls = tf.expr(root.locals()["urls"])
    assert "https://${name}-${data.google_project.this.number}.${var.region}.run.app" in urls

    env = root.locals()["healer_env"]
    assert tf.expr(env["HEALER_PUSH_AUDIENCE"]) == "local.urls.healer"
    assert tf.expr(env["HEALER_PUSH_SERVICE_ACCOUNTS"]) == "module.push_delivery.push_service_account_email"


def test_push_identity_invokes_the_healer_and_nothing_else(tf: Any) -> None:
    root = tf.module("self_healing")
    holders = [
        name
        for name, call in root.modules().items()
        if call["source"] == "../cloud_run_service"
        and "${module.push_delivery.push_service_account_member}" in call.get("invoker_members", {}).values()
    ]
    assert holders == ["healer"]
    healer_call = root.module_call("healer")
    assert healer_call["invoker_members"]["push"] == "${module.push_delivery.push_service_account_member}"

    run = tf.module("cloud_run_service")
    invokers = run.resource("google_cloud_run_v2_service_iam_member", "invokers")
    assert invokers["role"] == "roles/run.invoker"
    assert tf.expr(invokers["name"]) == "google_cloud_run_v2_service.this.name"

    # No other grant anywhere gives the push identity a role (the token-creator grant on
    # the push account is *to* the Pub/Sub agent, not to the push identity).
    for directory in tf.all_dirs():
        for rtype, name, body in directory.all_resources():
            if "iam_member" in rtype:
                member = str(body.get("member", ""))
                assert "push" not in member, f"{directory.name}: {rtype}.{name} grants a role to {member}"


def test_dead_letter_topic_has_bounded_attempts_and_a_subscription(tf: Any) -> None:
    push = tf.module("push_delivery")
    policy = tf.block(push.resource("google_pubsub_subscription", "push"), "dead_letter_policy")
    assert tf.expr(policy["dead_letter_topic"]) == "google_pubsub_topic.dead_letter.id"
    assert tf.expr(policy["max_delivery_attempts"]) == "var.max_delivery_attempts"
    attempts = push.variables()["max_delivery_attempts"]
    assert 5 <= attempts["default"] <= 100
    retry = tf.block(push.resource("google_pubsub_subscription", "push"), "retry_policy")
    assert retry["minimum_backoff"] and retry["maximum_backoff"]

    holding = [
        n
        for n, s in push.resources("google_pubsub_subscription").items()
        if tf.expr(s["topic"]) == "google_pubsub_topic.dead_letter.id"
    ]
    assert holding == ["dead_letter"]

    agent = push.locals()["pubsub_agent"]
    assert agent.endswith("@gcp-sa-pubsub.iam.gserviceaccount.com")
    publisher = push.resource("google_pubsub_topic_iam_member", "dead_letter_publisher")
    assert (tf.expr(publisher["topic"]), publisher["role"], tf.expr(publisher["member"])) == (
        "google_pubsub_topic.dead_letter.name",
        "roles/pubsub.publisher",
        "local.pubsub_agent",
    )
    subscriber = push.resource("google_pubsub_subscription_iam_member", "dead_letter_source_subscriber")
    assert (tf.expr(subscriber["subscription"]), subscriber["role"], tf.expr(subscriber["member"])) == (
        "google_pubsub_subscription.push.name",
        "roles/pubsub.subscriber",
        "local.pubsub_agent",
    )


def test_notification_agent_can_publish_once_the_channel_exists(tf: Any) -> None:
    push = tf.module("push_delivery")
    agent = push.locals()["monitoring_agent"]
    assert agent == (
        "serviceAccount:service-${data.google_project.this.number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com"
    )
    grant = push.resource("google_pubsub_topic_iam_member", "monitoring_publisher")
    assert tf.expr(grant["topic"]) == "google_pubsub_topic.alerts.name"
    assert grant["role"] == "roles/pubsub.publisher"
    assert tf.expr(grant["member"]) == "local.monitoring_agent"
    assert grant["depends_on"] == ["${terraform_data.notification_channels}"]
    gate = push.resource("terraform_data", "notification_channels")
    assert tf.expr(gate["input"]) == "var.notification_channel_ids"
    call = tf.module("self_healing").module_call("push_delivery")
    assert call["notification_channel_ids"] == ["${module.alerting.notification_channel_id}"]


# ---------------------------------------------------------------- public access


def _members(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [m for k, v in value.items() for m in (_members(v) if k != "member" else [str(v)])]
    if isinstance(value, list):
        return [m for v in value for m in _members(v)]
    return []


def test_all_users_only_on_chat_interactions_and_never_all_authenticated_users(tf: Any) -> None:
    public: list[str] = []
    for directory in tf.all_dirs():
        for rtype, name, body in directory.all_resources():
            members = _members(body)
            assert "allAuthenticatedUsers" not in members, f"{directory.name}: {rtype}.{name}"
            if "allUsers" in members:
                public.append(f"{directory.name}:{rtype}.{name}")
        for tfvars in directory.path.glob("*.tfvars"):
            assert "allUsers" not in tfvars.read_text(encoding="utf-8")
            assert "allAuthenticatedUsers" not in tfvars.read_text(encoding="utf-8")
    assert public == ["cloud_run_service:google_cloud_run_v2_service_iam_member.public"]

    run = tf.module("cloud_run_service")
    assert tf.expr(run.resource("google_cloud_run_v2_service_iam_member", "public")["count"]) == (
        "var.allow_unauthenticated ? 1 : 0"
    )
    assert run.variables()["allow_unauthenticated"]["default"] is False

    root = tf.module("self_healing")
    opened = [n for n, c in root.modules().items() if c.get("allow_unauthenticated") is True]
    assert opened == ["chat_interactions"]
    interactions = root.module_call("chat_interactions")
    assert interactions["env"] == '${merge(local.chatops_env, {CHATOPS_ROUTES = "interactions"})}'
    assert interactions["image"] == "${var.images.chatops}"
    notify = root.module_call("chatops_notify")
    assert notify["env"] == '${merge(local.chatops_env, {CHATOPS_ROUTES = "notify"})}'
    assert notify["invoker_members"] == {"healer": "${local.members.healer}"}
    assert "invoker_members" not in interactions


def test_healer_accepts_only_push_and_chat_interactions(tf: Any) -> None:
    root = tf.module("self_healing")
    healer = root.module_call("healer")
    assert healer["invoker_members"] == {
        "push": "${module.push_delivery.push_service_account_member}",
        "chat_interactions": "${local.members.chat_interactions}",
    }
    env = root.locals()["healer_env"]
    assert tf.expr(env["HEALER_CONTROL_SERVICE_ACCOUNTS"]) == "google_service_account.chat_interactions.email"
    assert (
        tf.expr(root.locals()["chatops_env"]["CHATOPS_HEALER_SERVICE_ACCOUNTS"])
        == "google_service_account.healer.email"
    )
    assert healer.get("allow_unauthenticated") in (None, False)


def test_each_service_runs_as_its_own_service_account(tf: Any) -> None:
    root = tf.module("self_healing")
    services = {n: c for n, c in root.modules().items() if c["source"] == "../cloud_run_service"}
    assert set(services) == {"healer", "chatops_notify", "chat_interactions"}
    identities = {tf.expr(c["service_account_email"]) for c in services.values()}
    assert len(identities) == len(services)
    for identity in identities:
        assert identity.startswith("google_service_account.")


def test_secrets_come_only_from_secret_manager_references(tf: Any) -> None:
    root = tf.module("self_healing")
    secret_names = {
        "SLACK_SIGNING_SECRET",
        "SLACK_BOT_TOKEN",
        "SLACK_WEBHOOK_URL",
        "TEAMS_WORKFLOW_URL",
        "CHATOPS_LINK_SIGNING_KEY",
    }
    plain = set(root.locals()["chatops_env"]) | set(root.locals()["healer_env"])
    assert not plain & secret_names
    names = tf.expr(root.locals()["chatops_secret_names"])
    for always in ("SLACK_SIGNING_SECRET", "CHATOPS_LINK_SIGNING_KEY"):
        assert f"{always} = " in names
    assert "for env, suffix in var.chatops_destination_secrets" in names
    destinations = root.variables()["chatops_destination_secrets"]["default"]
    assert set(destinations) | {"SLACK_SIGNING_SECRET", "CHATOPS_LINK_SIGNING_KEY"} == secret_names
    mounted = tf.expr(root.locals()["chatops_secret_env"])
    assert (
        mounted
        == "{for env, secret in local.chatops_secret_names : env => {secret = module.secrets.secret_ids[secret]}}"
    )
    for service in ("chatops_notify", "chat_interactions"):
        assert tf.expr(root.module_call(service)["secret_env"]) == "local.chatops_secret_env"
    assert "secret_env" not in root.module_call("healer")
    run = tf.module("cloud_run_service")
    text = (run.path / "main.tf").read_text(encoding="utf-8")
    assert "secret_key_ref {" in text
    for directory in tf.all_dirs():
        for rtype, name, _ in directory.all_resources():
            assert rtype != "google_secret_manager_secret_version", f"{directory.name}: secret values in state ({name})"


def test_healer_and_chatops_get_the_settings_they_read(tf: Any) -> None:
    root = tf.module("self_healing")
    healer_env = set(root.locals()["healer_env"])
    for name in (
        "HEALER_PUSH_AUDIENCE",
        "HEALER_PUSH_SERVICE_ACCOUNTS",
        "HEALER_CONTROL_SERVICE_ACCOUNTS",
        "HEALER_DRY_RUN",
        "HEALER_LEDGER",
        "HEALER_FIRESTORE_DATABASE",
        "GOOGLE_CLOUD_PROJECT",
        "HEALER_KUBE_MODE",
        "HEALER_CHATOPS_URL",
        "HEALER_CHATOPS_AUDIENCE",
        "HEALER_EVIDENCE_BUCKET",
        "HEALER_ACTIONS_TABLE",
    ):
        assert name in healer_env, name
    assert "HEALER_POLICY_FILE" in root.locals()["healer_optional_env"]
    env = root.locals()["healer_env"]
    assert env["HEALER_LEDGER"] == "firestore" and env["HEALER_KUBE_MODE"] == "gke"
    assert tf.expr(env["HEALER_CHATOPS_URL"]) == tf.expr(env["HEALER_CHATOPS_AUDIENCE"]) == "local.urls.chatops_notify"
    assert env["HEALER_EVIDENCE_BUCKET"].startswith("gs://")

    chatops = root.locals()["chatops_env"]
    assert set(chatops) >= {
        "CHATOPS_NOTIFY_AUDIENCE",
        "CHATOPS_HEALER_SERVICE_ACCOUNTS",
        "CHATOPS_ROUTING_FILE",
        "CHATOPS_HEALER_URL",
        "CHATOPS_HEALER_AUDIENCE",
        "CHATOPS_PUBLIC_URL",
        "CHATOPS_STATE",
    }
    assert chatops["CHATOPS_STATE"] == "firestore"
    assert tf.expr(chatops["CHATOPS_PUBLIC_URL"]) == "local.urls.chat_interactions"
    assert tf.expr(chatops["CHATOPS_NOTIFY_AUDIENCE"]) == "local.urls.chatops_notify"


def test_healer_answers_within_the_push_deadline(tf: Any) -> None:
    healer = tf.module("self_healing").module_call("healer")
    deadline = tf.module("push_delivery").variables()["ack_deadline_seconds"]["default"]
    assert healer["request_timeout_seconds"] <= deadline
    assert "ack_deadline_seconds" not in tf.module("self_healing").module_call("push_delivery")


def test_terraform_and_the_local_evaluator_accept_the_same_rules(tf: Any) -> None:
    from local_scenario.alert_rules import COMPARISONS, SEVERITIES, load_rules

    conditions = " ".join(v["condition"] for v in tf.module("alerting").variables()["alert_rules_file"]["validation"])
    for value in (*SEVERITIES, *COMPARISONS):
        assert f'"{value}"' in conditions, f"Terraform does not accept {value}"
    local_rules = {r.name: r for r in load_rules(ALERT_RULES)}
    assert set(local_rules) == {r["name"] for r in _rules()}
    for rule in _rules():
        local = local_rules[rule["name"]]
        assert (local.metric_type, local.comparison, local.threshold) == (
            rule["metric_type"],
            rule["comparison"],
            rule["threshold"],
        )


def test_open_incidents_are_renotified_so_the_healer_can_escalate(tf: Any) -> None:
    alerting = tf.module("alerting")
    strategy = tf.block(alerting.resource("google_monitoring_alert_policy", "healing"), "alert_strategy")
    dynamic = tf.block(strategy, "dynamic")["notification_channel_strategy"]
    assert tf.expr(dynamic["for_each"]).startswith("var.renotify_interval_seconds > 0")
    content = tf.block(dynamic, "content")
    assert "var.renotify_interval_seconds" in tf.expr(content["renotify_interval"])
    assert content["notification_channel_names"] == ["${google_monitoring_notification_channel.pubsub.id}"]
    # at or above the healer's default recheck_after (10 min), so a reminder means "the fix did not hold"
    assert alerting.variables()["renotify_interval_seconds"]["default"] >= 600
