# Cloud Monitoring alert policies that drive healing, built from the shared alert rules
# YAML, and the Pub/Sub notification channel they all notify.

locals {
  rules    = yamldecode(file(var.alert_rules_file))
  policies = { for p in local.rules.policies : p.name => p }

  # Labels a healer needs to find the workload. A cross-series reducer keeps only the
  # fields listed here, so any policy that reduces must group by all of them.
  healing_group_by = [
    "resource.label.project_id",
    "resource.label.location",
    "resource.label.cluster_name",
    "resource.label.namespace_name",
    "resource.label.pod_name",
    "resource.label.container_name",
    "metadata.system_labels.top_level_controller_name",
    "metadata.system_labels.top_level_controller_type",
  ]

  cluster_clause = length(var.cluster_names) == 0 ? "" : format(
    " AND resource.labels.cluster_name = one_of(%s)",
    join(", ", [for c in var.cluster_names : format("\"%s\"", c)]),
  )
  namespace_clause = length(var.namespaces) == 0 ? " AND resource.labels.namespace_name != \"kube-system\"" : format(
    " AND resource.labels.namespace_name = one_of(%s)",
    join(", ", [for n in var.namespaces : format("\"%s\"", n)]),
  )

  comparison_symbol = { COMPARISON_GT = ">", COMPARISON_LT = "<" }
}

resource "google_monitoring_notification_channel" "pubsub" {
  project      = var.project_id
  display_name = var.channel_display_name
  type         = "pubsub"
  description  = "Publishes every incident state change of the self-healing policies to the healer's topic."

  labels = {
    topic = var.alert_topic_id
  }
}

# Makes every policy wait for the custom metric descriptors it may watch.
resource "terraform_data" "metric_descriptors_ready" {
  input = var.metric_descriptor_ids
}

resource "google_monitoring_alert_policy" "healing" {
  for_each = local.policies

  project      = var.project_id
  display_name = each.key
  combiner     = "OR"
  severity     = each.value.severity
  enabled      = true

  notification_channels = [google_monitoring_notification_channel.pubsub.id]

  user_labels = merge(var.user_labels, {
    healer          = "enabled"
    "incident-kind" = each.value.kind
  })

  conditions {
    display_name = format(
      "%s %s %s for %ss",
      each.value.metric_type,
      local.comparison_symbol[each.value.comparison],
      each.value.threshold,
      each.value.duration_seconds,
    )

    condition_threshold {
      filter = format(
        "resource.type = \"%s\" AND metric.type = \"%s\"%s%s",
        each.value.resource_type,
        each.value.metric_type,
        local.cluster_clause,
        local.namespace_clause,
      )
      comparison              = each.value.comparison
      threshold_value         = each.value.threshold
      duration                = "${each.value.duration_seconds}s"
      evaluation_missing_data = "EVALUATION_MISSING_DATA_INACTIVE"

      aggregations {
        alignment_period   = "${each.value.alignment_period_seconds}s"
        per_series_aligner = each.value.per_series_aligner
        # No cross-series reducer by default: each series keeps its pod, container and
        # top-level controller labels, which the notification then carries. A rule that
        # asks for a reducer is grouped by every label the healer needs.
        cross_series_reducer = try(each.value.cross_series_reducer, null)
        group_by_fields      = try(each.value.cross_series_reducer, null) == null ? null : distinct(concat(local.healing_group_by, try(each.value.group_by, [])))
      }

      trigger {
        count = 1
      }
    }
  }

  alert_strategy {
    auto_close = "${each.value.auto_close_seconds}s"

    # Reminders for incidents that stay open: the healer reads a repeated `open` long after it
    # acted as "the fix did not hold" and takes the next step of the ladder (or escalates).
    dynamic "notification_channel_strategy" {
      for_each = var.renotify_interval_seconds > 0 ? [1] : []
      content {
        notification_channel_names = [google_monitoring_notification_channel.pubsub.id]
        renotify_interval          = "${var.renotify_interval_seconds}s"
      }
    }
  }

  documentation {
    content   = each.value.documentation
    mime_type = "text/markdown"
    subject   = "[${each.value.severity}] ${each.key}: $${resource.label.namespace_name}/$${metadata.system_label.top_level_controller_name}"

    dynamic "links" {
      for_each = var.runbook_url == null ? [] : [var.runbook_url]
      content {
        display_name = "Runbook"
        url          = links.value
      }
    }
  }

  lifecycle {
    precondition {
      condition     = !startswith(each.value.metric_type, "custom.googleapis.com/") || contains(keys(var.metric_descriptor_ids), each.value.metric_type)
      error_message = "Policy ${each.key} watches a custom metric whose descriptor is not passed in metric_descriptor_ids; create the descriptor first."
    }
  }

  depends_on = [terraform_data.metric_descriptors_ready]
}
