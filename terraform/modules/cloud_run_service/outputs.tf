output "name" {
  description = "Service name."
  value       = google_cloud_run_v2_service.this.name
}

output "id" {
  description = "Service id."
  value       = google_cloud_run_v2_service.this.id
}

output "uri" {
  description = "Main URI Cloud Run reports for the service."
  value       = google_cloud_run_v2_service.this.uri
}

output "location" {
  description = "Service region."
  value       = google_cloud_run_v2_service.this.location
}

output "service_account_email" {
  description = "Runtime service account of the service."
  value       = var.service_account_email
}
