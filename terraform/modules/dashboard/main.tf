# One Cloud Monitoring dashboard for the self-healing loop: incidents in, decisions and their
# outcomes, action latency, anomaly scores, ChatOps notifications, Kubernetes API errors and
# the Pub/Sub delivery path (backlog, oldest unacked incident, dead letters). The widgets are
# HCL data in widgets.tf.

resource "google_monitoring_dashboard" "this" {
  project        = var.project_id
  dashboard_json = jsonencode(local.dashboard)
}
