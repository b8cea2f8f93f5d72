variable "project_id" {
  type        = string
  description = "Project that hosts the alert policies and the notification channel."
}

variable "alert_rules_file" {
  type        = string
  description = "Path of the alert rules YAML (config/alert_rules.yaml), the single source of thresholds shared with the local alert evaluator."

  validation {
    condition     = fileexists(var.alert_rules_file)
    error_message = "alert_rules_file must point to an existing YAML file."
  }

  validation {
    condition = alltrue([
      for p in try(yamldecode(file(var.alert_rules_file)).policies, []) :
      contains(["CRITICAL", "ERROR", "WARNING"], p.severity)
      && contains(["COMPARISON_GT", "COMPARISON_LT"], p.comparison)
      && can(regex("^[a-z0-9][a-z0-9-]*$", p.name))
      && p.alignment_period_seconds >= 60
    ])
    error_message = "Every policy needs a lowercase dashed name, severity CRITICAL|ERROR|WARNING, comparison COMPARISON_GT|COMPARISON_LT and alignment_period_seconds >= 60."
  }
}

variable "alert_topic_id" {
  type        = string
  description = "Full id (projects/P/topics/T) of the Pub/Sub topic the notification channel publishes incidents to."

  validation {
    condition     = can(regex("^projects/[^/]+/topics/[^/]+$", var.alert_topic_id))
    error_message = "alert_topic_id must look like projects/PROJECT/topics/TOPIC."
  }
}

variable "channel_display_name" {
  type        = string
  description = "Display name of the Pub/Sub notification channel."
  default     = "self-healing pubsub"
}

variable "cluster_names" {
  type        = list(string)
  description = "GKE clusters the policies watch; empty watches every cluster in the project."
  default     = []
}

variable "namespaces" {
  type        = list(string)
  description = "Kubernetes namespaces the policies watch; empty watches every namespace except kube-system."
  default     = []
}

variable "metric_descriptor_ids" {
  type        = map(string)
  description = "Custom metric type => metric descriptor id. Policies on custom metrics are created only after these descriptors exist (a policy on an unknown custom metric fails with 404)."
  default     = {}
}

variable "runbook_url" {
  type        = string
  description = "Optional link added to every policy's documentation as 'Runbook'."
  default     = null
}

variable "user_labels" {
  type        = map(string)
  description = "Extra user labels added to every policy (the healer routes on healer and incident-kind, which are always set)."
  default     = {}
}

variable "renotify_interval_seconds" {
  type        = number
  description = "Re-notify open incidents this often (0 = never). The healer treats a reminder that arrives after its own recheck_after as 'the fix did not hold' and takes the next action on the ladder; keep it at or above the policy's recheck_after (default 10 minutes)."
  default     = 900

  validation {
    condition     = var.renotify_interval_seconds == 0 || (var.renotify_interval_seconds >= 300 && var.renotify_interval_seconds <= 86400)
    error_message = "renotify_interval_seconds must be 0 or between 300 and 86400."
  }
}
