"""Data/ML resources and GKE access, read from the HCL and the shared config files."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_DIR = REPO_ROOT / "config" / "bigquery"
FLEX_DIR = REPO_ROOT / "docker" / "dataflow"
TEMPLATE_PARAMETERS = {
    "input_subscription_logs",
    "input_subscription_metrics",
    "features_table",
    "scores_table",
    "model_uri",
    "metric_project",
}


def _schema(table: str) -> dict[str, dict[str, Any]]:
    fields = json.loads((SCHEMA_DIR / f"{table}.json").read_text(encoding="utf-8"))
    return {f["name"]: f for f in fields}


def _launcher() -> ModuleType:
    spec = importlib.util.spec_from_file_location("flex_template_launch", FLEX_DIR / "launch.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tables_use_the_shared_schemas_and_partition_on_their_timestamps(tf: Any) -> None:
    ml = tf.module("ml_platform")
    tables = ml.locals()["tables"]
    assert set(tables) == {"features", "anomaly_scores", "healing_actions"}
    resource = ml.resource("google_bigquery_table", "this")
    assert "file(" in resource["schema"] and "var.bigquery_schema_dir" in resource["schema"]
    for table, spec in tables.items():
        fields = _schema(table)
        assert (SCHEMA_DIR / spec["schema_file_name"]).is_file()
        partition = fields.get(spec["partition_field"])
        assert partition is not None, f"{table}: partition field {spec['partition_field']} not in schema"
        assert partition["type"] == "TIMESTAMP" and partition["mode"] == "REQUIRED"
        for column in spec["clustering"]:
            assert column in fields, f"{table}: clustering column {column} not in schema"
    for env in tf.environment_names:
        assert tf.environment(env).module_call("self_healing")["bigquery_schema_dir"].endswith("/config/bigquery")


def test_flex_template_parameters_match_the_spec_and_the_job(tf: Any) -> None:
    metadata = json.loads((FLEX_DIR / "metadata.json").read_text(encoding="utf-8"))
    names = [p["name"] for p in metadata["parameters"]]
    assert set(names) == TEMPLATE_PARAMETERS and len(names) == len(set(names))
    for parameter in metadata["parameters"]:
        assert parameter["label"] and parameter["helpText"]

    job = tf.module("ml_platform").resource("google_dataflow_flex_template_job", "features")
    assert tf.expr(job["provider"]) == "google-beta"
    assert job["ip_configuration"] == "WORKER_IP_PRIVATE"
    assert tf.expr(job["sdk_container_image"]) == "var.dataflow_image"
    passed = set()
    text = job["parameters"]
    for name in TEMPLATE_PARAMETERS:
        if f"{name} = " in text:
            passed.add(name)
    assert passed == TEMPLATE_PARAMETERS
    required = {p["name"] for p in metadata["parameters"] if not p.get("isOptional")}
    assert "var.serving_model_uri == null ? {} : {model_uri" in text
    assert required == TEMPLATE_PARAMETERS - {"model_uri"}


def test_flex_template_spec_pins_the_image(tf: Any) -> None:
    spec = tf.module("ml_platform").resource("google_storage_bucket_object", "flex_template_spec")
    content = spec["content"]
    assert "image = var.dataflow_image" in content
    assert "jsondecode(file(var.flex_template_metadata_file))" in content
    job = tf.module("ml_platform").resource("google_dataflow_flex_template_job", "features")
    assert "google_storage_bucket_object.flex_template_spec.name" in job["container_spec_gcs_path"]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["--input_subscription_logs=projects/p/subscriptions/l", "--metric_project=p"],
            ["--log_subscription=projects/p/subscriptions/l", "--metric_project=p", "--schema_dir=/s"],
        ),
        (
            ["--input_subscription_metrics", "projects/p/subscriptions/m", "--model_uri=gs://b/anomaly/v1"],
            ["--metric_subscription", "projects/p/subscriptions/m", "--model_dir=gs://b/anomaly/v1", "--schema_dir=/s"],
        ),
        (
            ["--schema_dir=/mine", "--features_table=p:d.features"],
            ["--schema_dir=/mine", "--features_table=p:d.features"],
        ),
    ],
)
def test_launcher_maps_template_parameters_to_pipeline_options(argv: list[str], expected: list[str]) -> None:
    assert _launcher().translate(argv, "/s") == expected


def test_launcher_maps_every_template_parameter_to_an_option_the_pipeline_declares() -> None:
    launcher = _launcher()
    pipeline = (REPO_ROOT / "dataflow" / "features_pipeline.py").read_text(encoding="utf-8")
    for name in TEMPLATE_PARAMETERS:
        option = launcher.PARAMETER_OPTIONS.get(name, name)
        assert f'"--{option}"' in pipeline, f"template parameter {name} -> --{option}: not a pipeline option"


def test_workload_identities_have_the_decided_grants(tf: Any) -> None:
    ml = tf.module("ml_platform")
    project_roles = {(tf.expr(b["member"]), b["role"]) for b in ml.resources("google_project_iam_member").values()}
    assert ("local.sa.dataflow", "roles/monitoring.metricWriter") in project_roles
    assert ("local.sa.pipeline", "roles/aiplatform.user") in project_roles
    dataset_roles = {
        (tf.expr(b["member"]), b["role"]) for b in ml.resources("google_bigquery_dataset_iam_member").values()
    }
    assert dataset_roles == {
        ("local.sa.dataflow", "roles/bigquery.dataEditor"),
        ("local.sa.pipeline", "roles/bigquery.dataViewer"),
    }
    subscriber = ml.resource("google_pubsub_subscription_iam_member", "dataflow_subscriber")
    assert (subscriber["role"], tf.expr(subscriber["member"])) == ("roles/pubsub.subscriber", "local.sa.dataflow")
    models = ml.module_call("models_bucket")["iam_members"]
    assert models["dataflow_reader"] == {"role": "roles/storage.objectViewer", "member": "${local.sa.dataflow}"}
    assert models["pipeline_rw"] == {"role": "roles/storage.objectAdmin", "member": "${local.sa.pipeline}"}
    writer = ml.resource("google_project_iam_custom_role", "actions_writer")
    assert set(writer["permissions"]) == {"bigquery.tables.get", "bigquery.tables.updateData"}
    table_grant = ml.resource("google_bigquery_table_iam_member", "actions_writers")
    assert tf.expr(table_grant["table_id"]) == 'google_bigquery_table.this["healing_actions"].table_id'
    assert tf.module("self_healing").module_call("ml_platform")["actions_table_writers"] == {
        "healer": "${local.members.healer}"
    }


def test_training_is_scheduled_through_the_vertex_rest_api(tf: Any) -> None:
    ml = tf.module("ml_platform")
    job = ml.resource("google_cloud_scheduler_job", "training")
    target = tf.block(job, "http_target")
    assert target["http_method"] == "POST"
    assert target["uri"].endswith("/locations/${var.region}/pipelineJobs")
    assert target["uri"].startswith("https://${var.region}-aiplatform.googleapis.com/v1/projects/")
    token = tf.block(target, "oauth_token")
    assert tf.expr(token["service_account_email"]) == "google_service_account.scheduler.email"
    assert token["scope"] == "https://www.googleapis.com/auth/cloud-platform"
    body = tf.expr(ml.locals()["pipeline_job"])
    assert "yamldecode(file(var.training_pipeline_spec_file))" in body
    assert "serviceAccount = google_service_account.pipeline.email" in body
    acts_as = ml.resource("google_service_account_iam_member", "scheduler_acts_as_pipeline")
    assert acts_as["role"] == "roles/iam.serviceAccountUser"
    assert tf.expr(acts_as["service_account_id"]) == "google_service_account.pipeline.name"


def test_gke_access_is_minimal(tf: Any) -> None:
    gke = tf.module("gke_access")
    values = gke.locals()
    assert values["credential_permissions"] == ["container.clusters.get"]
    workload = set(values["workload_permissions"])
    assert {
        "container.deployments.get",
        "container.deployments.update",
        "container.pods.list",
        "container.pods.delete",
    } <= workload
    assert not any(p.endswith((".create", ".setIamPolicy")) or "secrets" in p for p in workload)
    rules = {tuple(r["resources"]): set(r["verbs"]) for r in values["rbac_rules"]}
    assert rules[("deployments",)] == {"get", "list", "patch"}
    assert rules[("pods",)] == {"get", "list", "delete"}
    assert all("*" not in verbs for verbs in rules.values())
    for kind in ("kubernetes_role_binding_v1", "kubernetes_cluster_role_binding_v1"):
        binding = gke.resource(kind, "healer")
        subject = tf.block(binding, "subject")
        assert subject["kind"] == "User"
        assert tf.expr(subject["name"]) == "var.healer_service_account_email"
    member = gke.resource("google_project_iam_member", "healer")
    assert tf.expr(member["role"]) == "google_project_iam_custom_role.healer.id"
    call = tf.module("self_healing").module_call("gke_access")
    assert tf.expr(call["healer_service_account_email"]) == "google_service_account.healer.email"


def test_firestore_grants_are_limited_to_their_database(tf: Any) -> None:
    fs = tf.module("firestore_database")
    grant = fs.resource("google_project_iam_member", "users")
    assert grant["role"] == "roles/datastore.user"
    condition = tf.block(grant, "condition")
    assert condition["expression"] == (
        'resource.name == "projects/${var.project_id}/databases/${google_firestore_database.this.name}"'
    )
    root = tf.module("self_healing")
    assert root.module_call("healer_database")["user_members"] == {"healer": "${local.members.healer}"}
    assert set(root.module_call("chatops_database")["user_members"]) == {"chatops_notify", "chat_interactions"}


def test_both_feeds_reach_the_pipeline(tf: Any) -> None:
    ml = tf.module("ml_platform")
    job = ml.resource("google_dataflow_flex_template_job", "features")
    parameters = job["parameters"]
    assert 'input_subscription_logs = google_pubsub_subscription.feeds["logs"].id' in parameters
    assert 'input_subscription_metrics = google_pubsub_subscription.feeds["metrics"].id' in parameters

    sink = ml.resource("google_logging_project_sink", "gke_logs")
    assert sink["destination"] == 'pubsub.googleapis.com/${google_pubsub_topic.feeds["logs"].id}'
    writer = ml.resource("google_pubsub_topic_iam_member", "gke_logs_writer")
    assert tf.expr(writer["member"]) == "google_logging_project_sink.gke_logs.writer_identity"

    exporter = ml.resource("google_cloud_run_v2_job", "metrics_exporter")
    container = tf.block(tf.block(tf.block(exporter, "template"), "template"), "containers")
    assert container["command"] == ["python", "-m", "dataflow.metrics_exporter"]
    assert 'google_pubsub_topic.feeds["metrics"].id' in container["args"]
    publisher = ml.resource("google_pubsub_topic_iam_member", "metrics_exporter_publisher")
    assert tf.expr(publisher["topic"]) == 'google_pubsub_topic.feeds["metrics"].name'
    schedule = ml.resource("google_cloud_scheduler_job", "metrics_export")
    assert tf.block(schedule, "http_target")["uri"].endswith(":run")
    exporter_cli = (REPO_ROOT / "dataflow" / "metrics_exporter.py").read_text(encoding="utf-8")
    for flag in ("--project", "--topic", "--lookback-seconds", "--cluster"):
        assert f'"{flag}"' in exporter_cli, flag
