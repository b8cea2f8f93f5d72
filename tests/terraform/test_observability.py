"""Observability: the managed-Prometheus sidecar, its metricWriter grants and the dashboard.

The HCL is read with python-hcl2 like the other tests. Where an expression decides the
outcome (which containers exist, which accounts get the role, what JSON the dashboard sends),
the expression is also evaluated by ``terraform console`` in a scratch directory holding only
the module's variables and locals, so no provider is needed; those tests skip without the
terraform binary.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from self_healing_service.metrics import REGISTRY

SIDECAR_IMAGE = re.compile(
    r"^us-docker\.pkg\.dev/cloud-ops-agents-artifacts/cloud-run-gmp-sidecar/cloud-run-gmp-sidecar:\d+\.\d+\.\d+$"
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
SERVICE_VALUES = {
    "project_id": "selfheal-dev",
    "region": "europe-west1",
    "name": "selfheal-dev-healer",
    "image": "europe-west1-docker.pkg.dev/selfheal-dev/self-healing/healer@sha256:" + "0" * 64,
    "service_account_email": "selfheal-dev-healer@selfheal-dev.iam.gserviceaccount.com",
}
DASHBOARD_VALUES = {
    "project_id": "selfheal-dev",
    "display_name": "Self-healing (selfheal-dev)",
    "healer_service": "selfheal-dev-healer",
    "chatops_notify_service": "selfheal-dev-chatops-notify",
    "push_subscription": "selfheal-dev-alerts-to-healer",
    "dead_letter_topic": "selfheal-dev-alerts-dead-letter",
    "dead_letter_subscription": "selfheal-dev-alerts-dead-letter-hold",
    "anomaly_threshold": 0.8,
    "alert_policy_ids": ["projects/selfheal-dev/alertPolicies/101", "projects/selfheal-dev/alertPolicies/202"],
}


def _healer_metric_types() -> set[str]:
    """Cloud Monitoring types of the healer's metrics as managed Prometheus stores them."""
    types = set()
    for family in REGISTRY.collect():
        if family.type == "counter":
            types.add(f"prometheus.googleapis.com/{family.name}_total/counter")
        elif family.type == "histogram":
            types.add(f"prometheus.googleapis.com/{family.name}/histogram")
        else:
            raise AssertionError(f"no Cloud Monitoring mapping written for {family.type} {family.name}")
    return types


def _block_text(path: Path, header: str) -> str:
    """Text of a top-level block (``locals {`` or ``variable "x" {``) of a formatted .tf file."""
    text = path.read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(header)}\n.*?^\}}\n", text, flags=re.MULTILINE | re.DOTALL)
    assert match is not None, f"{path.name}: no block {header}"
    return match.group(0)


class Console:
    """``terraform console`` over a scratch module made of copied variables and locals."""

    def __init__(self, workdir: Path, values: dict[str, Any]) -> None:
        terraform = shutil.which("terraform")
        if terraform is None:
            pytest.skip("the terraform binary is not installed; expressions not evaluated")
        self.terraform = terraform
        self.workdir = workdir
        self.values = values

    def run(self, expression: str, **overrides: Any) -> tuple[str, str | None]:
        """The printed value and, when Terraform refused, its error text (console exits 0 either way)."""
        (self.workdir / "values.auto.tfvars.json").write_text(
            json.dumps({**self.values, **overrides}), encoding="utf-8"
        )
        env = {**os.environ, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1"}
        result = subprocess.run(
            [self.terraform, "console"],
            cwd=self.workdir,
            input=f"jsonencode({expression})\n",
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        output = ANSI.sub("", result.stdout + result.stderr)
        if result.returncode != 0 or "Error:" in output:
            return "", " ".join(output.replace("│", " ").split())
        lines = [line for line in ANSI.sub("", result.stdout).splitlines() if line.startswith('"')]
        assert lines, output
        return lines[-1], None

    def value(self, expression: str, **overrides: Any) -> Any:
        printed, error = self.run(expression, **overrides)
        assert error is None, error
        return json.loads(json.loads(printed))

    def error(self, expression: str, **overrides: Any) -> str:
        _, error = self.run(expression, **overrides)
        assert error is not None, f"expected Terraform to reject {overrides}"
        return error


# ---------------------------------------------------------------- sidecar (cloud_run_service)


def _sidecar_dynamic(run: Any, tf: Any) -> dict[str, dict[str, Any]]:
    template = tf.block(run.resource("google_cloud_run_v2_service", "this"), "template")
    return {kind: body for entry in template.get("dynamic", []) for kind, body in entry.items()}


def test_sidecar_is_an_optional_second_container_that_starts_after_the_app(tf: Any) -> None:
    run = tf.module("cloud_run_service")
    variable = run.variables()["prometheus_sidecar"]
    assert "enabled = optional(bool, false)" in variable["type"], "the sidecar must be off by default"
    assert variable["default"] == {}
    assert variable["description"].strip()
    default_image = re.search(r'image = optional\(string, "([^"]+)"\)', variable["type"])
    assert default_image is not None and SIDECAR_IMAGE.match(default_image.group(1)), "pin the sidecar version"

    template = tf.block(run.resource("google_cloud_run_v2_service", "this"), "template")
    app = tf.block(template, "containers")
    assert tf.expr(app["name"]) == "local.app_container_name"
    assert tf.expr(app["image"]) == "var.image"

    dynamic = _sidecar_dynamic(run, tf)
    sidecar = dynamic["containers"]
    assert tf.expr(sidecar["for_each"]) == "var.prometheus_sidecar.enabled ? [var.prometheus_sidecar] : []"
    content = sidecar["content"][0]
    assert content["depends_on"] == ["${local.app_container_name}"]
    assert tf.expr(content["image"]) == "containers.value.image"
    assert "ports" not in content, "only the app container receives requests"
    names = run.locals()
    assert (names["app_container_name"], names["sidecar_container_name"]) == ("app", "collector")

    # A custom RunMonitoring config comes only from Secret Manager, mounted where the sidecar reads it.
    assert names["sidecar_config_dir"] == "/etc/rungmp"
    volume = dynamic["volumes"]["content"][0]
    assert tf.expr(volume["secret"][0]["secret"]) == "volumes.value"
    assert volume["secret"][0]["items"] == [{"version": "latest", "path": "config.yaml"}]
    assert "var.prometheus_sidecar.enabled ?" in tf.expr(names["sidecar_config_secret"])


@pytest.fixture
def service_console(tf: Any, tmp_path: Path) -> Console:
    run = tf.module("cloud_run_service")
    shutil.copy(run.path / "variables.tf", tmp_path / "variables.tf")
    (tmp_path / "locals.tf").write_text(_block_text(run.path / "main.tf", "locals {"), encoding="utf-8")
    return Console(tmp_path, SERVICE_VALUES)


@pytest.mark.terraform
def test_sidecar_containers_and_volume_exist_only_when_enabled(tf: Any, service_console: Console) -> None:
    dynamic = _sidecar_dynamic(tf.module("cloud_run_service"), tf)
    containers = tf.expr(dynamic["containers"]["for_each"])
    volumes = tf.expr(dynamic["volumes"]["for_each"])
    mounts = tf.expr(dynamic["containers"]["content"][0]["dynamic"][0]["volume_mounts"]["for_each"])

    assert service_console.value(containers) == []
    assert service_console.value(volumes) == []

    enabled = service_console.value(containers, prometheus_sidecar={"enabled": True})
    assert len(enabled) == 1
    assert SIDECAR_IMAGE.match(enabled[0]["image"])
    assert enabled[0]["config_secret"] is None
    assert service_console.value(volumes, prometheus_sidecar={"enabled": True}) == []
    assert service_console.value(mounts, prometheus_sidecar={"enabled": True}) == []

    custom = {"enabled": True, "config_secret": "healer-rungmp-config"}
    assert service_console.value(volumes, prometheus_sidecar=custom) == ["healer-rungmp-config"]
    assert service_console.value(mounts, prometheus_sidecar=custom) == ["rungmp-config"]
    # A config secret named while the sidecar is off mounts nothing.
    assert service_console.value(volumes, prometheus_sidecar={"config_secret": "healer-rungmp-config"}) == []


@pytest.mark.terraform
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"prometheus_sidecar": {"enabled": True}, "container_port": 9090}, "scrapes port 8080 only"),
        ({"prometheus_sidecar": {"enabled": True, "image": "example/collector:latest"}}, "pinned by digest"),
        ({"prometheus_sidecar": {"enabled": True, "image": "example/collector"}}, "pinned by digest"),
    ],
)
def test_sidecar_settings_that_cannot_work_are_rejected(
    service_console: Console, overrides: dict[str, Any], message: str
) -> None:
    assert message in service_console.error("var.prometheus_sidecar", **overrides)


@pytest.mark.terraform
def test_sidecar_accepts_another_port_with_its_own_config(service_console: Console) -> None:
    sidecar = {"enabled": True, "config_secret": "rungmp", "image": "example/collector@sha256:" + "a" * 64}
    assert service_console.value(
        "var.prometheus_sidecar.config_secret", prometheus_sidecar=sidecar, container_port=9090
    )


# ---------------------------------------------------------------- which services, which grants


def test_healer_and_notify_run_the_sidecar_and_only_they_write_metrics(tf: Any) -> None:
    root = tf.module("self_healing")
    variable = root.variables()["metrics_sidecar"]
    assert "enabled = optional(bool, true)" in variable["type"], "on by default for the healing services"

    members = tf.expr(root.locals()["metrics_sidecar_members"])
    assert members == (
        "var.metrics_sidecar.enabled ? "
        "{healer = local.members.healer, chatops_notify = local.members.chatops_notify} : {}"
    )
    for service in ("healer", "chatops_notify"):
        sidecar = root.module_call(service)["prometheus_sidecar"]
        assert tf.expr(sidecar["enabled"]) == f'contains(keys(local.metrics_sidecar_members), "{service}")'
        assert tf.expr(sidecar["image"]) == "var.metrics_sidecar.image"
    assert "prometheus_sidecar" not in root.module_call("chat_interactions")

    grant = root.resource("google_project_iam_member", "metric_writers")
    assert tf.expr(grant["for_each"]) == "local.metrics_sidecar_members"
    assert (grant["role"], tf.expr(grant["member"])) == ("roles/monitoring.metricWriter", "each.value")
    assert "condition" not in grant

    # Nothing else hands out metricWriter, except the Dataflow scoring job's own grant.
    writers = {
        (directory.name, name, tf.expr(body.get("member", "")))
        for directory in tf.all_dirs()
        for rtype, name, body in directory.all_resources()
        if "iam" in rtype and body.get("role") == "roles/monitoring.metricWriter"
    }
    assert writers == {
        ("self_healing", "metric_writers", "each.value"),
        ("ml_platform", "dataflow_metric_writer", "local.sa.dataflow"),
    }


@pytest.mark.terraform
def test_the_grants_follow_the_switch(tf: Any, tmp_path: Path) -> None:
    root = tf.module("self_healing")
    variable = _block_text(root.path / "variables.tf", 'variable "metrics_sidecar" {')
    members = tf.expr(root.locals()["metrics_sidecar_members"])
    (tmp_path / "main.tf").write_text(
        variable
        + "locals {\n"
        + "  members = {\n"
        + '    healer            = "serviceAccount:healer@p.iam.gserviceaccount.com"\n'
        + '    chatops_notify    = "serviceAccount:notify@p.iam.gserviceaccount.com"\n'
        + '    chat_interactions = "serviceAccount:chat@p.iam.gserviceaccount.com"\n'
        + "  }\n"
        + f"  metrics_sidecar_members = {members}\n"
        + "}\n",
        encoding="utf-8",
    )
    console = Console(tmp_path, {})
    services = ("healer", "chatops_notify", "chat_interactions")
    enabled_by = {s: tf.expr(root.module_call(s)["prometheus_sidecar"]["enabled"]) for s in services[:2]}
    probe = "{" + ", ".join(f"{s} = {e}" for s, e in enabled_by.items()) + "}"

    assert console.value("local.metrics_sidecar_members") == {
        "healer": "serviceAccount:healer@p.iam.gserviceaccount.com",
        "chatops_notify": "serviceAccount:notify@p.iam.gserviceaccount.com",
    }
    assert console.value(probe) == {"healer": True, "chatops_notify": True}

    off = {"metrics_sidecar": {"enabled": False}}
    assert console.value("local.metrics_sidecar_members", **off) == {}
    assert console.value(probe, **off) == {"healer": False, "chatops_notify": False}
    assert "pinned by digest" in console.error("var.metrics_sidecar", metrics_sidecar={"image": "x/y:latest"})


def test_healer_and_notify_listen_where_the_default_scrape_looks(tf: Any) -> None:
    root = tf.module("self_healing")
    run = tf.module("cloud_run_service")
    assert run.variables()["container_port"]["default"] == 8080
    for service in ("healer", "chatops_notify"):
        assert "container_port" not in root.module_call(service), f"{service} must serve /metrics on 8080"
        assert "config_secret" not in root.module_call(service)["prometheus_sidecar"]


# ---------------------------------------------------------------- dashboard module and call


def test_dashboard_module_has_the_standard_files_and_explains_time_to_recovery(tf: Any) -> None:
    dashboard = tf.module("dashboard")
    for name in ("main.tf", "variables.tf", "outputs.tf", "versions.tf", "README.md"):
        assert (dashboard.path / name).is_file(), name
    assert not list(dashboard.path.glob("*.json")), "the dashboard is HCL passed through jsonencode, not a JSON file"
    readme = (dashboard.path / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# dashboard\n")
    assert "Time to recovery" in readme and "healing_actions" in readme
    assert "healer_action_duration_seconds" in readme

    resource = dashboard.resource("google_monitoring_dashboard", "this")
    assert tf.expr(resource["dashboard_json"]) == "jsonencode(local.dashboard)"
    assert tf.expr(resource["project"]) == "var.project_id"
    layout = dashboard.locals()["dashboard"]
    assert tf.expr(layout["displayName"]) == "var.display_name"
    assert layout["mosaicLayout"]["columns"] == 48
    for name, body in dashboard.variables().items():
        if name not in ("project_id", "anomaly_metric_type"):
            assert body.get("validation"), f"dashboard.{name} has no validation"


def test_self_healing_calls_the_dashboard_with_its_services_and_delivery_path(tf: Any) -> None:
    call = tf.module("self_healing").module_call("dashboard")
    assert call["source"] == "../dashboard"
    wiring = {k: tf.expr(v) for k, v in call.items() if k != "source"}
    assert wiring["healer_service"] == "module.healer.name"
    assert wiring["chatops_notify_service"] == "module.chatops_notify.name"
    assert wiring["push_subscription"] == "basename(module.push_delivery.subscription_id)"
    assert wiring["dead_letter_topic"] == "basename(module.push_delivery.dead_letter_topic_id)"
    assert wiring["dead_letter_subscription"] == "basename(module.push_delivery.dead_letter_subscription_id)"
    assert wiring["anomaly_metric_type"] == "module.ml_platform.anomaly_metric_type"
    assert wiring["alert_policy_ids"] == "values(module.alerting.policy_ids)"
    assert wiring["anomaly_threshold"] == "local.anomaly_threshold"
    threshold = tf.expr(tf.module("self_healing").locals()["anomaly_threshold"])
    assert "yamldecode(file(var.alert_rules_file))" in threshold and 'p.kind == "anomaly"' in threshold
    assert "dashboard_url" in tf.module("self_healing").outputs()


def test_dashboard_charts_every_healer_metric_under_its_managed_prometheus_name(tf: Any) -> None:
    dashboard = tf.module("dashboard")
    charted = dashboard.locals()["prometheus_metrics"]
    assert set(charted.values()) == _healer_metric_types()
    target = dashboard.locals()["healer_target"]
    assert 'resource.type=\\"prometheus_target\\"' in target or 'resource.type="prometheus_target"' in target
    assert "${var.healer_service}" in target

    widgets = json.dumps(dashboard.locals()["widgets"])
    for key in charted:
        assert f"local.prometheus_metrics.{key}" in widgets, f"{charted[key]} is not charted"
    for key in dashboard.locals()["pubsub_metrics"]:
        assert f"local.pubsub_metrics.{key}" in widgets, f"Pub/Sub {key} is not charted"
    assert "var.anomaly_metric_type" in widgets


def test_dashboard_has_the_agreed_widgets(tf: Any) -> None:
    titles = [w["title"] for w in tf.module("dashboard").locals()["widgets"]]
    assert len(titles) == len(set(titles))
    for fragment in (
        "Incidents received, by kind",
        "Decisions, by outcome",
        "Healing success rate (verified / acted)",
        "Action duration",
        "Anomaly score, by workload",
        "Notifications to ChatOps, by result",
        "Kubernetes API errors",
        "Push subscription: unacked",
        "Push subscription: oldest unacked",
        "Dead-letter topic",
        "Alert incidents",
    ):
        assert any(fragment in t for t in titles), f"no widget for {fragment!r} (have {titles})"


# ---------------------------------------------------------------- the JSON the API receives


@pytest.fixture(scope="module")
def dashboard_console(tf: Any, tmp_path_factory: pytest.TempPathFactory) -> Console:
    dashboard = tf.module("dashboard")
    workdir = tmp_path_factory.mktemp("dashboard")
    for name in ("variables.tf", "widgets.tf"):
        shutil.copy(dashboard.path / name, workdir / name)
    return Console(workdir, DASHBOARD_VALUES)


@pytest.fixture(scope="module")
def dashboard_json(dashboard_console: Console) -> dict[str, Any]:
    rendered: dict[str, Any] = dashboard_console.value("local.dashboard")
    return rendered


@pytest.mark.terraform
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"push_subscription": "projects/p/subscriptions/s"}, "push_subscription must be a Pub/Sub subscription name"),
        ({"dead_letter_topic": "projects/p/topics/t"}, "dead_letter_topic must be a Pub/Sub topic name"),
        ({"alert_policy_ids": ["alertPolicies/1"]}, "alert_policy_ids must be alert policy ids"),
        ({"anomaly_threshold": 3}, "anomaly_threshold must be between 0 and 1"),
        ({"alignment_period_seconds": 30}, "alignment_period_seconds must be a whole number"),
        ({"healer_service": "Healer"}, "healer_service must be a Cloud Run service name"),
    ],
)
def test_dashboard_rejects_inputs_it_cannot_chart(
    dashboard_console: Console, overrides: dict[str, Any], message: str
) -> None:
    assert message in dashboard_console.error("local.dashboard", **overrides)


def _data_sets(dashboard: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for tile in dashboard["mosaicLayout"]["tiles"]:
        widget = tile["widget"]
        for data_set in widget.get("xyChart", {}).get("dataSets", []):
            yield widget["title"], data_set["timeSeriesQuery"]


def _filters(dashboard: dict[str, Any], metric_type: str) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for title, query in _data_sets(dashboard):
        parts = [query.get("timeSeriesFilter")]
        ratio = query.get("timeSeriesFilterRatio")
        if ratio:
            parts += [ratio["numerator"], ratio["denominator"]]
        for part in parts:
            if part and f'metric.type="{metric_type}"' in part["filter"]:
                found.append((title, part))
    return found


def _one(dashboard: dict[str, Any], metric_type: str, title_fragment: str) -> dict[str, Any]:
    matches = [part for title, part in _filters(dashboard, metric_type) if title_fragment in title]
    assert len(matches) == 1, f"{metric_type} in {title_fragment!r}: {matches}"
    return matches[0]


@pytest.mark.terraform
def test_rendered_dashboard_is_a_valid_mosaic(dashboard_json: dict[str, Any]) -> None:
    assert dashboard_json["displayName"] == DASHBOARD_VALUES["display_name"]
    layout = dashboard_json["mosaicLayout"]
    cells: set[tuple[int, int]] = set()
    for tile in layout["tiles"]:
        assert tile["xPos"] + tile["width"] <= layout["columns"]
        for x in range(tile["xPos"], tile["xPos"] + tile["width"]):
            for y in range(tile["yPos"], tile["yPos"] + tile["height"]):
                assert (x, y) not in cells, f"{tile['widget']['title']} overlaps another tile"
                cells.add((x, y))
    for tile in layout["tiles"]:
        chart = tile["widget"].get("xyChart")
        if chart is not None:
            assert chart["chartOptions"] == {"mode": "COLOR"}, tile["widget"]["title"]
            assert chart["yAxis"]["scale"] == "LINEAR" and chart["yAxis"]["label"], tile["widget"]["title"]
            assert chart["dataSets"], tile["widget"]["title"]
    for title, query in _data_sets(dashboard_json):
        parts = [query.get("timeSeriesFilter"), *(query.get("timeSeriesFilterRatio") or {}).values()]
        for part in filter(None, parts):
            assert part["aggregation"]["alignmentPeriod"] == "300s", title
            assert part["aggregation"]["perSeriesAligner"].startswith("ALIGN_"), title
            assert part["aggregation"]["crossSeriesReducer"].startswith("REDUCE_"), title


@pytest.mark.terraform
def test_rendered_healer_charts_read_the_healer_prometheus_target(dashboard_json: dict[str, Any]) -> None:
    target = 'resource.type="prometheus_target" resource.label."namespace"="selfheal-dev-healer"'
    charted = set()
    for metric_type in _healer_metric_types():
        for title, part in _filters(dashboard_json, metric_type):
            assert target in part["filter"], title
            charted.add(metric_type)
    assert charted == _healer_metric_types()

    incidents = _one(dashboard_json, "prometheus.googleapis.com/healer_incidents_received_total/counter", "by kind")
    assert incidents["aggregation"]["groupByFields"] == ['metric.label."kind"']
    assert incidents["aggregation"]["perSeriesAligner"] == "ALIGN_DELTA"

    decisions = _one(dashboard_json, "prometheus.googleapis.com/healer_decisions_total/counter", "by outcome")
    assert decisions["aggregation"]["groupByFields"] == ['metric.label."outcome"']
    assert "outcome" not in decisions["filter"], "every outcome (acted, refused, failed, ...) is charted"

    notifications = _one(dashboard_json, "prometheus.googleapis.com/healer_notifications_total/counter", "ChatOps")
    assert notifications["aggregation"]["groupByFields"] == ['metric.label."result"']

    errors = _one(dashboard_json, "prometheus.googleapis.com/healer_kube_api_calls_total/counter", "Kubernetes")
    assert 'metric.label."error"!="none"' in errors["filter"]


@pytest.mark.terraform
def test_rendered_success_rate_is_verified_over_acted(dashboard_json: dict[str, Any]) -> None:
    [ratio] = [
        q["timeSeriesFilterRatio"]
        for title, q in _data_sets(dashboard_json)
        if "success rate" in title and "timeSeriesFilterRatio" in q
    ]
    assert ratio["numerator"]["filter"].endswith('metric.label."outcome"="verified"')
    assert ratio["denominator"]["filter"].endswith('metric.label."outcome"="acted"')
    for part in ratio.values():
        assert "healer_decisions_total/counter" in part["filter"]
        assert part["aggregation"]["crossSeriesReducer"] == "REDUCE_SUM"


@pytest.mark.terraform
def test_rendered_action_duration_percentiles(dashboard_json: dict[str, Any]) -> None:
    parts = _filters(dashboard_json, "prometheus.googleapis.com/healer_action_duration_seconds/histogram")
    reducers = sorted(p["aggregation"]["crossSeriesReducer"] for _, p in parts)
    assert reducers == ["REDUCE_PERCENTILE_50", "REDUCE_PERCENTILE_95"]
    assert all(p["aggregation"]["groupByFields"] == ['metric.label."action"'] for _, p in parts)


@pytest.mark.terraform
def test_rendered_anomaly_scores_per_workload_with_the_alert_threshold(dashboard_json: dict[str, Any]) -> None:
    anomaly = _one(dashboard_json, "custom.googleapis.com/healer/anomaly_score", "Anomaly")
    assert 'resource.type="k8s_container"' in anomaly["filter"]
    assert anomaly["aggregation"]["groupByFields"] == ['metric.label."controller_name"']
    [chart] = [
        t["widget"]["xyChart"] for t in dashboard_json["mosaicLayout"]["tiles"] if "Anomaly" in t["widget"]["title"]
    ]
    assert [t["value"] for t in chart["thresholds"]] == [0.8]


@pytest.mark.terraform
def test_rendered_pubsub_backlog_and_dead_letters(dashboard_json: dict[str, Any]) -> None:
    push = 'resource.type="pubsub_subscription" resource.label."subscription_id"="selfheal-dev-alerts-to-healer"'
    unacked = _one(dashboard_json, "pubsub.googleapis.com/subscription/num_undelivered_messages", "Push subscription")
    assert push in unacked["filter"]
    oldest = _one(dashboard_json, "pubsub.googleapis.com/subscription/oldest_unacked_message_age", "oldest")
    assert push in oldest["filter"] and oldest["aggregation"]["perSeriesAligner"] == "ALIGN_MAX"

    forwarded = _one(dashboard_json, "pubsub.googleapis.com/subscription/dead_letter_message_count", "Dead-letter")
    assert push in forwarded["filter"]
    published = _one(dashboard_json, "pubsub.googleapis.com/topic/send_request_count", "Dead-letter")
    assert 'resource.label."topic_id"="selfheal-dev-alerts-dead-letter"' in published["filter"]
    held = _one(dashboard_json, "pubsub.googleapis.com/subscription/num_undelivered_messages", "Dead-letter")
    assert 'resource.label."subscription_id"="selfheal-dev-alerts-dead-letter-hold"' in held["filter"]


@pytest.mark.terraform
def test_rendered_incident_list_names_policies_without_the_project(dashboard_json: dict[str, Any]) -> None:
    [incidents] = [
        t["widget"]["incidentList"] for t in dashboard_json["mosaicLayout"]["tiles"] if "incidentList" in t["widget"]
    ]
    assert incidents["policyNames"] == ["alertPolicies/101", "alertPolicies/202"]
