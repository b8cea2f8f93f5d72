output "topic_id" {
  description = "Id (projects/P/topics/T) of the alert topic the notification channel publishes to."
  value       = google_pubsub_topic.alerts.id
}

output "subscription_id" {
  description = "Id of the push subscription that delivers incidents to the healer."
  value       = google_pubsub_subscription.push.id
}

output "dead_letter_topic_id" {
  description = "Id of the dead-letter topic."
  value       = google_pubsub_topic.dead_letter.id
}

output "dead_letter_subscription_id" {
  description = "Id of the subscription holding dead-lettered incidents."
  value       = google_pubsub_subscription.dead_letter.id
}

output "push_service_account_email" {
  description = "Email of the push identity (the healer accepts only this one on its push route)."
  value       = google_service_account.push.email
}

output "push_service_account_member" {
  description = "IAM member string of the push identity, for the healer's run.invoker binding."
  value       = "serviceAccount:${google_service_account.push.email}"
}
