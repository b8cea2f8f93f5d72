output "notification_channel_id" {
  description = "Id of the Pub/Sub notification channel every policy notifies."
  value       = google_monitoring_notification_channel.pubsub.id
}

output "policy_ids" {
  description = "Policy name => alert policy id."
  value       = { for name, p in google_monitoring_alert_policy.healing : name => p.id }
}

output "policy_kinds" {
  description = "Policy name => incident kind (the incident-kind user label)."
  value       = { for name, p in local.policies : name => p.kind }
}
