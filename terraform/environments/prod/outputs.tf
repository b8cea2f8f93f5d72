output "service_urls" {
  description = "URLs of the healer, ChatOps notify and chat-interactions services."
  value       = module.self_healing.service_urls
}

output "chat_interactions_url" {
  description = "Public URL to configure in Slack and in Teams signed links."
  value       = module.self_healing.chat_interactions_url
}

output "service_account_emails" {
  description = "Runtime identity of every workload."
  value       = module.self_healing.service_account_emails
}

output "secret_ids" {
  description = "Secrets to fill before the first deploy."
  value       = module.self_healing.secret_ids
}
