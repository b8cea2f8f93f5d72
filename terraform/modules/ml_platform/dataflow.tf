# The streaming feature and scoring pipeline, launched from a flex template whose spec
# Terraform writes next to the staging files (image pinned by digest).

resource "google_storage_bucket_object" "flex_template_spec" {
  bucket       = module.dataflow_staging_bucket.name
  name         = "templates/features_pipeline.json"
  content_type = "application/json"
  content = jsonencode({
    image    = var.dataflow_image
    sdkInfo  = { language = "PYTHON" }
    metadata = jsondecode(file(var.flex_template_metadata_file))
  })
}

resource "google_dataflow_flex_template_job" "features" {
  count    = var.dataflow_enabled ? 1 : 0
  provider = google-beta

  project                 = var.project_id
  region                  = var.region
  name                    = "${var.name_prefix}-features"
  container_spec_gcs_path = "gs://${module.dataflow_staging_bucket.name}/${google_storage_bucket_object.flex_template_spec.name}"
  sdk_container_image     = var.dataflow_image
  service_account_email   = google_service_account.dataflow.email
  temp_location           = "gs://${module.dataflow_staging_bucket.name}/temp"
  staging_location        = "gs://${module.dataflow_staging_bucket.name}/staging"
  ip_configuration        = "WORKER_IP_PRIVATE"
  subnetwork              = var.dataflow_subnetwork
  enable_streaming_engine = true
  max_workers             = var.dataflow_max_workers
  machine_type            = var.dataflow_machine_type
  kms_key_name            = var.cmek.dataflow
  on_delete               = "drain"
  labels                  = var.labels

  # Names from docker/dataflow/metadata.json; the image's launcher maps them to the
  # pipeline's own options.
  parameters = merge(
    {
      input_subscription_logs    = google_pubsub_subscription.feeds["logs"].id
      input_subscription_metrics = google_pubsub_subscription.feeds["metrics"].id
      features_table             = "${var.project_id}:${google_bigquery_dataset.this.dataset_id}.${google_bigquery_table.this["features"].table_id}"
      scores_table               = "${var.project_id}:${google_bigquery_dataset.this.dataset_id}.${google_bigquery_table.this["anomaly_scores"].table_id}"
      metric_project             = var.project_id
    },
    var.serving_model_uri == null ? {} : { model_uri = var.serving_model_uri },
  )

  depends_on = [
    google_project_iam_member.dataflow_worker,
    google_project_iam_member.dataflow_metric_writer,
    google_bigquery_dataset_iam_member.dataflow_editor,
    google_pubsub_subscription_iam_member.dataflow_subscriber,
    google_pubsub_subscription_iam_member.dataflow_viewer,
    google_artifact_registry_repository_iam_member.dataflow_image_reader,
    google_monitoring_metric_descriptor.anomaly_score,
  ]
}
