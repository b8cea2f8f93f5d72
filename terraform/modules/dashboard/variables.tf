variable "project_id" {
  type        = string
  description = "Project that hosts the dashboard and the metrics it charts."
}

variable "display_name" {
  type        = string
  description = "Dashboard title shown in Cloud Monitoring."

  validation {
    condition     = length(trimspace(var.display_name)) > 0 && length(var.display_name) <= 100
    error_message = "display_name must be 1-100 characters."
  }
}

variable "healer_service" {
  type        = string
  description = "Cloud Run service name of the healer. Its managed-Prometheus series carry it as the prometheus_target namespace label."

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,47}[a-z0-9])?$", var.healer_service))
    error_message = "healer_service must be a Cloud Run service name (lowercase letters, digits, dashes, at most 49 characters)."
  }
}

variable "chatops_notify_service" {
  type        = string
  description = "Cloud Run service name of ChatOps /notify, charted by its request count per response class."

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,47}[a-z0-9])?$", var.chatops_notify_service))
    error_message = "chatops_notify_service must be a Cloud Run service name (lowercase letters, digits, dashes, at most 49 characters)."
  }
}

variable "push_subscription" {
  type        = string
  description = "Name (not id) of the push subscription that delivers incidents to the healer."

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$", var.push_subscription))
    error_message = "push_subscription must be a Pub/Sub subscription name (not projects/.../subscriptions/...)."
  }
}

variable "dead_letter_topic" {
  type        = string
  description = "Name (not id) of the dead-letter topic the push subscription forwards undeliverable incidents to."

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$", var.dead_letter_topic))
    error_message = "dead_letter_topic must be a Pub/Sub topic name (not projects/.../topics/...)."
  }
}

variable "dead_letter_subscription" {
  type        = string
  description = "Name (not id) of the subscription that holds dead-lettered incidents until someone inspects them."

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9._~+%-]{2,254}$", var.dead_letter_subscription))
    error_message = "dead_letter_subscription must be a Pub/Sub subscription name (not projects/.../subscriptions/...)."
  }
}

variable "anomaly_metric_type" {
  type        = string
  description = "Custom metric the scoring pipeline writes the per-workload anomaly score to (label controller_name)."
  default     = "custom.googleapis.com/healer/anomaly_score"

  validation {
    condition     = startswith(var.anomaly_metric_type, "custom.googleapis.com/")
    error_message = "anomaly_metric_type must be a custom.googleapis.com/ metric type."
  }
}

variable "anomaly_threshold" {
  type        = number
  description = "Score above which the anomaly alert fires, drawn as a threshold line; null draws none."
  default     = null

  validation {
    condition     = var.anomaly_threshold == null ? true : var.anomaly_threshold >= 0 && var.anomaly_threshold <= 1
    error_message = "anomaly_threshold must be between 0 and 1 (scores are in [0, 1])."
  }
}

variable "alert_policy_ids" {
  type        = list(string)
  description = "Alert policy ids (projects/P/alertPolicies/N) whose incidents the incident list shows; empty shows every policy's."
  default     = []

  validation {
    condition     = alltrue([for id in var.alert_policy_ids : can(regex("^projects/[^/]+/alertPolicies/[^/]+$", id))])
    error_message = "alert_policy_ids must be alert policy ids of the form projects/P/alertPolicies/N."
  }
}

variable "alignment_period_seconds" {
  type        = number
  description = "Alignment period of every chart: counters are summed per period, gauges take the period's maximum."
  default     = 300

  validation {
    condition     = var.alignment_period_seconds >= 60 && var.alignment_period_seconds <= 86400 && floor(var.alignment_period_seconds) == var.alignment_period_seconds
    error_message = "alignment_period_seconds must be a whole number of seconds between 60 and 86400."
  }
}
