# Scheduled training of the anomaly model on Vertex AI Pipelines.
#
# The google provider's pipeline schedule resource (google_vertex_ai_schedule) was added in
# 7.x, deprecated in 7.42 as a duplicate and is removed in 8.0, so it cannot be relied on
# across the pinned range. Cloud Scheduler calls the Vertex AI REST API instead
# (projects.locations.pipelineJobs.create) with an OAuth token of a dedicated account.
# The REST API accepts templateUri only from Artifact Registry, so the compiled pipeline
# spec is sent inline; a copy is kept in the models bucket for the record.

locals {
  training_enabled = var.training_pipeline_spec_file != null
  pipeline_root    = "gs://${local.models_bucket}/pipeline_root"

  training_parameters = merge(
    {
      store_uri    = "bq://${var.project_id}.${var.dataset_id}.features"
      model_root   = "gs://${local.models_bucket}/anomaly"
      registry_uri = "vertex://${var.project_id}/${var.region}/${var.model_registry_name}"
      # A rolling window, resolved when each scheduled run starts: train on days 15..2 back,
      # hold back the last day for the evaluate -> gate step.
      train_start = "-15d"
      train_end   = "-1d"
      holdout_end = "now"
    },
    var.training_parameter_values,
  )

  pipeline_job = local.training_enabled ? {
    displayName    = "${var.name_prefix}-train-anomaly"
    pipelineSpec   = yamldecode(file(var.training_pipeline_spec_file))
    serviceAccount = google_service_account.pipeline.email
    labels         = merge(var.labels, { trigger = "cloud-scheduler" })
    runtimeConfig = {
      gcsOutputDirectory = local.pipeline_root
      parameterValues    = local.training_parameters
    }
    encryptionSpec = var.cmek.vertex == null ? null : { kmsKeyName = var.cmek.vertex }
  } : null
}

resource "google_storage_bucket_object" "training_pipeline_spec" {
  count = local.training_enabled ? 1 : 0

  bucket       = module.models_bucket.name
  name         = "pipelines/train_anomaly.yaml"
  content_type = "application/yaml"
  source       = var.training_pipeline_spec_file
}

resource "google_cloud_scheduler_job" "training" {
  count = local.training_enabled ? 1 : 0

  project          = var.project_id
  region           = var.region
  name             = "${var.name_prefix}-train-anomaly"
  description      = "Creates a Vertex AI pipeline job that retrains the anomaly model."
  schedule         = var.training_schedule
  time_zone        = var.training_time_zone
  attempt_deadline = "180s"

  retry_config {
    retry_count          = 2
    min_backoff_duration = "60s"
  }

  http_target {
    http_method = "POST"
    uri         = "https://${var.region}-aiplatform.googleapis.com/v1/projects/${var.project_id}/locations/${var.region}/pipelineJobs"
    body        = base64encode(jsonencode({ for k, v in local.pipeline_job : k => v if v != null }))
    headers = {
      "Content-Type" = "application/json"
    }

    oauth_token {
      service_account_email = google_service_account.scheduler.email
      scope                 = "https://www.googleapis.com/auth/cloud-platform"
    }
  }

  depends_on = [
    google_project_iam_member.scheduler_aiplatform_user,
    google_service_account_iam_member.scheduler_acts_as_pipeline,
    google_project_iam_member.pipeline_aiplatform_user,
  ]
}
