variable "project_id" {
  type        = string
  description = "Project that hosts the topics, subscriptions and the push service account."
}

variable "topic_name" {
  type        = string
  description = "Name of the topic the Monitoring notification channel publishes incidents to."
  default     = "self-healing-alerts"
}

variable "subscription_name" {
  type        = string
  description = "Name of the push subscription that delivers incidents to the healer."
  default     = "self-healing-alerts-to-healer"
}

variable "dead_letter_topic_name" {
  type        = string
  description = "Name of the dead-letter topic for incidents the healer could not accept."
  default     = "self-healing-alerts-dead-letter"
}

variable "push_service_account_id" {
  type        = string
  description = "account_id of the service account whose OIDC token Pub/Sub attaches to each push (6-30 chars)."
  default     = "healer-push"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.push_service_account_id))
    error_message = "push_service_account_id must be 6-30 lowercase letters, digits or dashes, starting with a letter."
  }
}

variable "push_endpoint" {
  type        = string
  description = "HTTPS URL the subscription pushes to (the healer's push route)."

  validation {
    condition     = startswith(var.push_endpoint, "https://")
    error_message = "push_endpoint must be an https:// URL."
  }
}

variable "push_audience" {
  type        = string
  description = "Audience of the OIDC token (the healer's base URL); the healer verifies it against HEALER_PUSH_AUDIENCE."

  validation {
    condition     = startswith(var.push_audience, "https://")
    error_message = "push_audience must be an https:// URL."
  }
}

variable "ack_deadline_seconds" {
  type        = number
  description = "Ack deadline, which is also the push HTTP timeout (10-600 s)."
  default     = 60

  validation {
    condition     = var.ack_deadline_seconds >= 10 && var.ack_deadline_seconds <= 600
    error_message = "ack_deadline_seconds must be between 10 and 600."
  }
}

variable "minimum_backoff_seconds" {
  type        = number
  description = "Retry policy: minimum delay before redelivering a nacked incident (0-600 s)."
  default     = 10

  validation {
    condition     = var.minimum_backoff_seconds >= 0 && var.minimum_backoff_seconds <= 600
    error_message = "minimum_backoff_seconds must be between 0 and 600."
  }
}

variable "maximum_backoff_seconds" {
  type        = number
  description = "Retry policy: maximum delay before redelivering a nacked incident (0-600 s)."
  default     = 300

  validation {
    condition     = var.maximum_backoff_seconds >= 0 && var.maximum_backoff_seconds <= 600
    error_message = "maximum_backoff_seconds must be between 0 and 600."
  }
}

variable "max_delivery_attempts" {
  type        = number
  description = "Deliveries before an incident goes to the dead-letter topic (5-100)."
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100."
  }
}

variable "message_retention_seconds" {
  type        = number
  description = "How long undelivered incidents are kept (600 s to 7 days)."
  default     = 604800

  validation {
    condition     = var.message_retention_seconds >= 600 && var.message_retention_seconds <= 604800
    error_message = "message_retention_seconds must be between 600 and 604800."
  }
}

variable "notification_channel_ids" {
  type        = list(string)
  description = "Ids of the Pub/Sub notification channels publishing to the topic. The Monitoring notification service agent only exists once the first such channel does, so its publisher grant waits for these."
}

variable "grant_pubsub_token_creator" {
  type        = bool
  description = "Grant the Pub/Sub service agent roles/iam.serviceAccountTokenCreator on the push service account (required for projects that enabled Pub/Sub before 2021-04-08, harmless elsewhere)."
  default     = true
}

variable "kms_key_name" {
  type        = string
  description = "Optional Cloud KMS key (CMEK) for both topics; null keeps Google-managed encryption. The Pub/Sub service agent needs encrypter/decrypter on it."
  default     = null
}

variable "labels" {
  type        = map(string)
  description = "Labels set on the topics and subscriptions."
  default     = {}
}
