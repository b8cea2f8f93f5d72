# Data and ML resources: BigQuery tables for features, anomaly scores and healing actions;
# buckets for models, pipeline roots and Dataflow staging; the feeds the feature pipeline
# reads; the anomaly-score metric descriptor; one service account per workload.

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  tables = {
    features = {
      description      = "Per-workload feature windows written by the Dataflow pipeline."
      partition_field  = "window_end"
      clustering       = ["cluster", "namespace", "controller_name"]
      schema_file_name = "features.json"
    }
    anomaly_scores = {
      description      = "Anomaly scores per workload and window, with the model version that scored."
      partition_field  = "window_end"
      clustering       = ["cluster", "namespace", "controller_name"]
      schema_file_name = "anomaly_scores.json"
    }
    healing_actions = {
      description      = "Every healer decision: action, outcome, reason, evidence."
      partition_field  = "decided_at"
      clustering       = ["namespace", "action", "outcome"]
      schema_file_name = "healing_actions.json"
    }
  }

  anomaly_metric_type = "custom.googleapis.com/healer/anomaly_score"
  models_bucket       = "${var.project_id}-${var.name_prefix}-models"
  staging_bucket      = "${var.project_id}-${var.name_prefix}-dataflow"
  sa = {
    dataflow  = "serviceAccount:${google_service_account.dataflow.email}"
    pipeline  = "serviceAccount:${google_service_account.pipeline.email}"
    scheduler = "serviceAccount:${google_service_account.scheduler.email}"
  }
}

# ---------------------------------------------------------------- service accounts

resource "google_service_account" "dataflow" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-dataflow"
  display_name = "Feature and scoring pipeline workers"
  description  = "Dataflow workers: read the feeds, write features and scores, write the anomaly metric, read the model."
}

resource "google_service_account" "pipeline" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-training"
  display_name = "Anomaly model training pipeline"
  description  = "Vertex AI pipeline runtime: read features, write the model and pipeline root."
}

resource "google_service_account" "scheduler" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-train-sched"
  display_name = "Training schedule"
  description  = "Cloud Scheduler identity: creates the training pipeline jobs and runs the metrics export job."
}

resource "google_project_iam_member" "dataflow_worker" {
  project = var.project_id
  role    = "roles/dataflow.worker"
  member  = local.sa.dataflow
}

resource "google_project_iam_member" "dataflow_metric_writer" {
  project = var.project_id
  role    = "roles/monitoring.metricWriter"
  member  = local.sa.dataflow
}

resource "google_project_iam_member" "pipeline_aiplatform_user" {
  project = var.project_id
  role    = "roles/aiplatform.user"
  member  = local.sa.pipeline
}

resource "google_project_iam_member" "pipeline_bigquery_job_user" {
  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = local.sa.pipeline
}

resource "google_project_iam_member" "scheduler_aiplatform_user" {
  project = var.project_id
  role    = "roles/aiplatform.user"
  member  = local.sa.scheduler
}

# The scheduler submits pipeline jobs that run as the pipeline account.
resource "google_service_account_iam_member" "scheduler_acts_as_pipeline" {
  service_account_id = google_service_account.pipeline.name
  role               = "roles/iam.serviceAccountUser"
  member             = local.sa.scheduler
}

resource "google_artifact_registry_repository_iam_member" "dataflow_image_reader" {
  project    = var.project_id
  location   = var.artifact_registry_repository.location
  repository = var.artifact_registry_repository.repository
  role       = "roles/artifactregistry.reader"
  member     = local.sa.dataflow
}

# ---------------------------------------------------------------- BigQuery

resource "google_bigquery_dataset" "this" {
  project                    = var.project_id
  dataset_id                 = var.dataset_id
  location                   = var.bigquery_location
  description                = "Self-healing features, anomaly scores and healing actions."
  delete_contents_on_destroy = false
  labels                     = var.labels

  dynamic "default_encryption_configuration" {
    for_each = var.cmek.bigquery == null ? [] : [var.cmek.bigquery]
    content {
      kms_key_name = default_encryption_configuration.value
    }
  }
}

resource "google_bigquery_table" "this" {
  # checkov:skip=CKV_GCP_121: deletion protection follows var.deletion_protection: on in prod (asserted by tests/terraform), off in dev so a dev environment can be torn down.
  for_each = local.tables

  project             = var.project_id
  dataset_id          = google_bigquery_dataset.this.dataset_id
  table_id            = each.key
  description         = each.value.description
  schema              = file("${var.bigquery_schema_dir}/${each.value.schema_file_name}")
  clustering          = each.value.clustering
  deletion_protection = var.deletion_protection
  labels              = var.labels

  time_partitioning {
    type          = "DAY"
    field         = each.value.partition_field
    expiration_ms = try(var.table_expiration_days[each.key] * 86400000, null)
  }

  dynamic "encryption_configuration" {
    for_each = var.cmek.bigquery == null ? [] : [var.cmek.bigquery]
    content {
      kms_key_name = encryption_configuration.value
    }
  }
}

resource "google_bigquery_dataset_iam_member" "dataflow_editor" {
  project    = var.project_id
  dataset_id = google_bigquery_dataset.this.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = local.sa.dataflow
}

resource "google_bigquery_dataset_iam_member" "pipeline_viewer" {
  project    = var.project_id
  dataset_id = google_bigquery_dataset.this.dataset_id
  role       = "roles/bigquery.dataViewer"
  member     = local.sa.pipeline
}

# Insert-only on the healing_actions table: no read, no delete.
resource "google_project_iam_custom_role" "actions_writer" {
  project     = var.project_id
  role_id     = replace("${var.name_prefix}_actions_writer", "-", "_")
  title       = "Healing actions writer"
  description = "Insert rows into the healing_actions table."
  stage       = "GA"
  permissions = ["bigquery.tables.get", "bigquery.tables.updateData"]
}

resource "google_bigquery_table_iam_member" "actions_writers" {
  for_each = var.actions_table_writers

  project    = var.project_id
  dataset_id = google_bigquery_dataset.this.dataset_id
  table_id   = google_bigquery_table.this["healing_actions"].table_id
  role       = google_project_iam_custom_role.actions_writer.id
  member     = each.value
}

# ---------------------------------------------------------------- buckets

module "models_bucket" {
  source = "../gcs_bucket"

  project_id   = var.project_id
  name         = local.models_bucket
  location     = upper(var.region)
  kms_key_name = var.cmek.storage
  labels       = var.labels

  iam_members = {
    pipeline_rw     = { role = "roles/storage.objectAdmin", member = local.sa.pipeline }
    dataflow_reader = { role = "roles/storage.objectViewer", member = local.sa.dataflow }
  }
}

module "dataflow_staging_bucket" {
  source = "../gcs_bucket"

  project_id        = var.project_id
  name              = local.staging_bucket
  location          = upper(var.region)
  kms_key_name      = var.cmek.storage
  delete_after_days = 30
  labels            = var.labels

  iam_members = {
    dataflow_rw = { role = "roles/storage.objectAdmin", member = local.sa.dataflow }
  }
}

# ---------------------------------------------------------------- feeds

resource "google_pubsub_topic" "feeds" {
  for_each = toset(["logs", "metrics"])

  project                    = var.project_id
  name                       = "${var.name_prefix}-features-${each.key}"
  kms_key_name               = var.cmek.pubsub
  message_retention_duration = "86400s"
  labels                     = var.labels
}

resource "google_pubsub_subscription" "feeds" {
  for_each = google_pubsub_topic.feeds

  project                    = var.project_id
  name                       = "${each.value.name}-dataflow"
  topic                      = each.value.id
  ack_deadline_seconds       = 60
  message_retention_duration = "86400s"
  labels                     = var.labels

  expiration_policy {
    ttl = ""
  }
}

resource "google_pubsub_subscription_iam_member" "dataflow_subscriber" {
  for_each = google_pubsub_subscription.feeds

  project      = var.project_id
  subscription = each.value.name
  role         = "roles/pubsub.subscriber"
  member       = local.sa.dataflow
}

# Dataflow's Pub/Sub source also reads the subscription's configuration.
resource "google_pubsub_subscription_iam_member" "dataflow_viewer" {
  for_each = google_pubsub_subscription.feeds

  project      = var.project_id
  subscription = each.value.name
  role         = "roles/pubsub.viewer"
  member       = local.sa.dataflow
}

# Warning-and-above container logs feed the error/warning counts of the features.
resource "google_logging_project_sink" "gke_logs" {
  project                = var.project_id
  name                   = "${var.name_prefix}-gke-logs-to-features"
  destination            = "pubsub.googleapis.com/${google_pubsub_topic.feeds["logs"].id}"
  filter                 = var.gke_log_filter
  unique_writer_identity = true
}

resource "google_pubsub_topic_iam_member" "gke_logs_writer" {
  project = var.project_id
  topic   = google_pubsub_topic.feeds["logs"].name
  role    = "roles/pubsub.publisher"
  member  = google_logging_project_sink.gke_logs.writer_identity
}

# ---------------------------------------------------------------- anomaly metric

# Registered up front so the anomaly alert policy can be created before any score is written.
resource "google_monitoring_metric_descriptor" "anomaly_score" {
  project      = var.project_id
  type         = local.anomaly_metric_type
  metric_kind  = "GAUGE"
  value_type   = "DOUBLE"
  unit         = "1"
  display_name = "Workload anomaly score"
  description  = "Anomaly score of a workload in [0, 1], written against k8s_container by the scoring pipeline."

  labels {
    key         = "model_version"
    value_type  = "STRING"
    description = "Version of the model artifact that scored."
  }

  labels {
    key         = "controller_name"
    value_type  = "STRING"
    description = "Top-level controller (e.g. Deployment) name."
  }

  labels {
    key         = "controller_kind"
    value_type  = "STRING"
    description = "Top-level controller kind."
  }
}
