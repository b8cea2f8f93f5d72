output "service_urls" {
  description = "Deterministic URLs of the services (healer, chatops_notify, chat_interactions); the tokens' audiences."
  value       = local.urls
}

output "chat_interactions_url" {
  description = "Public URL to configure in Slack (interactivity and slash commands) and in Teams signed links."
  value       = local.urls.chat_interactions
}

output "service_account_emails" {
  description = "Runtime identity of every workload."
  value = merge(module.ml_platform.service_account_emails, {
    healer            = google_service_account.healer.email
    chatops_notify    = google_service_account.chatops_notify.email
    chat_interactions = google_service_account.chat_interactions.email
    push              = module.push_delivery.push_service_account_email
  })
}

output "alert_topic_id" {
  description = "Topic the notification channel publishes incidents to."
  value       = module.push_delivery.topic_id
}

output "push_subscription_id" {
  description = "Push subscription delivering incidents to the healer."
  value       = module.push_delivery.subscription_id
}

output "dead_letter_subscription_id" {
  description = "Subscription holding incidents the healer never accepted."
  value       = module.push_delivery.dead_letter_subscription_id
}

output "alert_policy_ids" {
  description = "Policy name => alert policy id."
  value       = module.alerting.policy_ids
}

output "secret_ids" {
  description = "Environment variable => secret id whose value must be added out of band before the first deploy."
  value       = local.chatops_secret_names
}

output "healing_actions_table" {
  description = "Fully qualified healing_actions table (HEALER_ACTIONS_TABLE)."
  value       = module.ml_platform.table_ids["healing_actions"]
}

output "evidence_bucket" {
  description = "Bucket the healer writes evidence to."
  value       = module.evidence_bucket.name
}

output "models_bucket" {
  description = "Bucket of model artifacts and pipeline roots."
  value       = module.ml_platform.models_bucket
}

output "chatops_firestore_database" {
  description = "Firestore database ChatOps keeps its state in (its client's default unless configured otherwise)."
  value       = local.chatops_database
}

output "dashboard_url" {
  description = "Cloud console link to the self-healing dashboard."
  value       = module.dashboard.console_url
}
