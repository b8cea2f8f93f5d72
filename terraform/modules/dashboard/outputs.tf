output "id" {
  description = "Dashboard id (projects/PROJECT_NUMBER/dashboards/DASHBOARD_ID)."
  value       = google_monitoring_dashboard.this.id
}

output "console_url" {
  description = "Link to the dashboard in the Cloud console."
  value       = "https://console.cloud.google.com/monitoring/dashboards/builder/${basename(google_monitoring_dashboard.this.id)}?project=${var.project_id}"
}
