# The metrics feed: Cloud Monitoring cannot push metrics to Pub/Sub, so a Cloud Run job runs
# dataflow.metrics_exporter every minute (reads kubernetes.io/container/* series, publishes
# one message per point to the metrics topic the pipeline reads).

resource "google_service_account" "metrics_exporter" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-metrics"
  display_name = "GKE metrics exporter"
  description  = "Reads GKE container metrics and publishes them to the features metrics topic."
}

resource "google_project_iam_member" "metrics_exporter_viewer" {
  project = var.project_id
  role    = "roles/monitoring.viewer"
  member  = "serviceAccount:${google_service_account.metrics_exporter.email}"
}

resource "google_pubsub_topic_iam_member" "metrics_exporter_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.feeds["metrics"].name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_service_account.metrics_exporter.email}"
}

resource "google_cloud_run_v2_job" "metrics_exporter" {
  count = var.metrics_export_enabled ? 1 : 0

  project             = var.project_id
  name                = "${var.name_prefix}-metrics-export"
  location            = var.region
  deletion_protection = var.deletion_protection
  labels              = var.labels

  template {
    task_count = 1
    labels     = var.labels

    template {
      service_account = google_service_account.metrics_exporter.email
      timeout         = "50s"
      max_retries     = 0
      encryption_key  = var.cmek.cloud_run

      containers {
        # The pipeline image holds the exporter and its client libraries.
        image   = var.dataflow_image
        command = ["python", "-m", "dataflow.metrics_exporter"]
        args = concat(
          ["--project", var.project_id, "--topic", google_pubsub_topic.feeds["metrics"].id, "--lookback-seconds", "60"],
          var.metrics_export_cluster == null ? [] : ["--cluster", var.metrics_export_cluster],
        )

        resources {
          limits = {
            cpu    = "1"
            memory = "1Gi"
          }
        }
      }
    }
  }

  depends_on = [
    google_project_iam_member.metrics_exporter_viewer,
    google_pubsub_topic_iam_member.metrics_exporter_publisher,
  ]
}

resource "google_cloud_run_v2_job_iam_member" "scheduler_runs_metrics_export" {
  count = var.metrics_export_enabled ? 1 : 0

  project  = var.project_id
  location = google_cloud_run_v2_job.metrics_exporter[0].location
  name     = google_cloud_run_v2_job.metrics_exporter[0].name
  role     = "roles/run.invoker"
  member   = local.sa.scheduler
}

resource "google_cloud_scheduler_job" "metrics_export" {
  count = var.metrics_export_enabled ? 1 : 0

  project          = var.project_id
  region           = var.region
  name             = "${var.name_prefix}-metrics-export"
  description      = "Runs the GKE metrics export job every minute."
  schedule         = "* * * * *"
  time_zone        = "Etc/UTC"
  attempt_deadline = "60s"

  retry_config {
    retry_count = 0
  }

  http_target {
    http_method = "POST"
    uri         = "https://run.googleapis.com/v2/projects/${var.project_id}/locations/${var.region}/jobs/${google_cloud_run_v2_job.metrics_exporter[0].name}:run"

    oauth_token {
      service_account_email = google_service_account.scheduler.email
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }

  depends_on = [google_cloud_run_v2_job_iam_member.scheduler_runs_metrics_export]
}
