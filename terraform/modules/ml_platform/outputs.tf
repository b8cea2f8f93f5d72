output "dataset_id" {
  description = "BigQuery dataset id."
  value       = google_bigquery_dataset.this.dataset_id
}

output "table_ids" {
  description = "Table name => fully qualified id (project.dataset.table)."
  value       = { for k, t in google_bigquery_table.this : k => "${var.project_id}.${t.dataset_id}.${t.table_id}" }
}

output "models_bucket" {
  description = "Bucket of model artifacts and pipeline roots."
  value       = module.models_bucket.name
}

output "dataflow_staging_bucket" {
  description = "Bucket of the flex template spec and Dataflow staging files."
  value       = module.dataflow_staging_bucket.name
}

output "feed_topic_ids" {
  description = "Feed (logs, metrics) => topic id the feature pipeline reads from."
  value       = { for k, t in google_pubsub_topic.feeds : k => t.id }
}

output "anomaly_metric_type" {
  description = "Type of the anomaly-score custom metric."
  value       = google_monitoring_metric_descriptor.anomaly_score.type
}

output "metric_descriptor_ids" {
  description = "Custom metric type => descriptor id, for the alerting module."
  value       = { (google_monitoring_metric_descriptor.anomaly_score.type) = google_monitoring_metric_descriptor.anomaly_score.id }
}

output "dataflow_job_id" {
  description = "Id of the running Dataflow job (null when disabled)."
  value       = try(google_dataflow_flex_template_job.features[0].job_id, null)
}

output "training_schedule_id" {
  description = "Id of the Cloud Scheduler job that triggers training (null without a compiled pipeline)."
  value       = try(google_cloud_scheduler_job.training[0].id, null)
}

output "service_account_emails" {
  description = "Workload => service account email (dataflow, pipeline, scheduler)."
  value = {
    dataflow  = google_service_account.dataflow.email
    pipeline  = google_service_account.pipeline.email
    scheduler = google_service_account.scheduler.email
  }
}
