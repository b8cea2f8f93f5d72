# The dashboard's content as HCL data (Dashboards API v1 field names), serialised with
# jsonencode in main.tf. Every chart queries with a Monitoring filter and an aggregation.

locals {
  period = "${var.alignment_period_seconds}s"

  # The managed-Prometheus sidecar writes the healer's series as
  # prometheus.googleapis.com/<name>/<kind> (counters keep their _total suffix) on the
  # prometheus_target resource, whose namespace label is the Cloud Run service name.
  prometheus_metrics = {
    incidents        = "prometheus.googleapis.com/healer_incidents_received_total/counter"
    decisions        = "prometheus.googleapis.com/healer_decisions_total/counter"
    action_duration  = "prometheus.googleapis.com/healer_action_duration_seconds/histogram"
    kube_api_calls   = "prometheus.googleapis.com/healer_kube_api_calls_total/counter"
    notifications    = "prometheus.googleapis.com/healer_notifications_total/counter"
    ledger_conflicts = "prometheus.googleapis.com/healer_ledger_conflicts_total/counter"
    malformed        = "prometheus.googleapis.com/healer_malformed_messages_total/counter"
    transient        = "prometheus.googleapis.com/healer_transient_failures_total/counter"
  }
  healer_target = "resource.type=\"prometheus_target\" resource.label.\"namespace\"=\"${var.healer_service}\""

  pubsub_metrics = {
    unacked         = "pubsub.googleapis.com/subscription/num_undelivered_messages"
    oldest_unacked  = "pubsub.googleapis.com/subscription/oldest_unacked_message_age"
    dead_lettered   = "pubsub.googleapis.com/subscription/dead_letter_message_count"
    topic_publishes = "pubsub.googleapis.com/topic/send_request_count"
  }
  push_subscription        = "resource.type=\"pubsub_subscription\" resource.label.\"subscription_id\"=\"${var.push_subscription}\""
  dead_letter_subscription = "resource.type=\"pubsub_subscription\" resource.label.\"subscription_id\"=\"${var.dead_letter_subscription}\""
  dead_letter_topic        = "resource.type=\"pubsub_topic\" resource.label.\"topic_id\"=\"${var.dead_letter_topic}\""

  cloud_run_requests = "metric.type=\"run.googleapis.com/request_count\" resource.type=\"cloud_run_revision\" resource.label.\"service_name\"=\"${var.chatops_notify_service}\""

  # Counters: increase per alignment period, summed over instances. Gauges: the period's maximum.
  count_per_period = {
    alignmentPeriod    = local.period
    perSeriesAligner   = "ALIGN_DELTA"
    crossSeriesReducer = "REDUCE_SUM"
  }
  gauge_max = {
    alignmentPeriod    = local.period
    perSeriesAligner   = "ALIGN_MAX"
    crossSeriesReducer = "REDUCE_MAX"
  }

  widgets = [
    {
      title = "About this dashboard"
      text = {
        format  = "MARKDOWN"
        content = <<-EOT
          Healer metrics come from its `/metrics` endpoint through the Managed Service for
          Prometheus sidecar; Pub/Sub and Cloud Run series are built in; anomaly scores are the
          custom metric the scoring pipeline writes.

          **Time to recovery** per incident lives in the BigQuery `healing_actions` table, which
          Monitoring cannot chart. Here it is approximated by the time the healer's actions take
          (percentiles of `healer_action_duration_seconds`) and by the alert incidents list, which
          shows when each incident opened and closed.
        EOT
      }
    },
    {
      title = "Alert incidents (open and recently closed)"
      incidentList = {
        policyNames = [for id in var.alert_policy_ids : regex("alertPolicies/[^/]+$", id)]
      }
    },
    {
      title = "Incidents received, by kind"
      xyChart = {
        chartOptions = { mode = "COLOR" }
        dataSets = [{
          plotType = "STACKED_BAR"
          timeSeriesQuery = {
            timeSeriesFilter = {
              filter      = "metric.type=\"${local.prometheus_metrics.incidents}\" ${local.healer_target}"
              aggregation = merge(local.count_per_period, { groupByFields = ["metric.label.\"kind\""] })
            }
          }
        }]
        yAxis = { label = "incidents", scale = "LINEAR" }
      }
    },
    {
      title = "Decisions, by outcome (acted, refused, failed, verified, ...)"
      xyChart = {
        chartOptions = { mode = "COLOR" }
        dataSets = [{
          plotType = "STACKED_BAR"
          timeSeriesQuery = {
            timeSeriesFilter = {
              filter      = "metric.type=\"${local.prometheus_metrics.decisions}\" ${local.healer_target}"
              aggregation = merge(local.count_per_period, { groupByFields = ["metric.label.\"outcome\""] })
            }
          }
        }]
        yAxis = { label = "decisions", scale = "LINEAR" }
      }
    },
    {
      title = "Refusals and failures, by reason"
      xyChart = {
        chartOptions = { mode = "COLOR" }
        dataSets = [{
          plotType = "STACKED_BAR"
          timeSeriesQuery = {
            timeSeriesFilter = {
              filter      = "metric.type=\"${local.prometheus_metrics.decisions}\" ${local.healer_target} metric.label.\"outcome\"=one_of(\"refused\", \"failed\")"
              aggregation = merge(local.count_per_period, { groupByFields = ["metric.label.\"outcome\"", "metric.label.\"reason\""] })
            }
          }
        }]
        yAxis = { label = "decisions", scale = "LINEAR" }
      }
    },
    {
      title = "Healing success rate (verified / acted)"
      xyChart = {
        chartOptions = { mode = "COLOR" }
        dataSets = [{
          plotType = "LINE"
          timeSeriesQuery = {
            timeSeriesFilterRatio = {
              numerator = {
                filter      = "metric.type=\"${local.prometheus_metrics.decisions}\" ${local.healer_target} metric.label.\"outcome\"=\"verified\""
                aggregation = local.count_per_period
              }
              denominator = {
                filter      = "metric.type=\"${local.prometheus_metrics.decisions}\" ${local.healer_target} metric.label.\"outcome\"=\"acted\""
                aggregation = local.count_per_period
              }
            }
          }
        }]
        yAxis = { label = "verified / acted", scale = "LINEAR" }
      }
    },
    {
      title = "Action duration p50 / p95, by action (time to act)"
      xyChart = {
        chartOptions = { mode = "COLOR" }
        dataSets = [
          for reducer in ["REDUCE_PERCENTILE_50", "REDUCE_PERCENTILE_95"] : {
            plotType = "LINE"
            timeSeriesQuery = {
              timeSeriesFilter = {
                filter = "metric.type=\"${local.prometheus_metrics.action_duration}\" ${local.healer_target}"
                aggregation = {
                  alignmentPeriod    = local.period
                  perSeriesAligner   = "ALIGN_DELTA"
                  crossSeriesReducer = reducer
                  groupByFields      = ["metric.label.\"action\""]
                }
              }
            }
          }
        ]
        yAxis = { label = "seconds", scale = "LINEAR" }
      }
    },
    {
      title = "Anomaly score, by workload"
      xyChart = {
        chartOptions = { mode = "COLOR" }
        dataSets = [{
          plotType = "LINE"
          timeSeriesQuery = {
            timeSeriesFilter = {
              filter      = "metric.type=\"${var.anomaly_metric_type}\" resource.type=\"k8s_container\""
              aggregation = merge(local.gauge_max, { groupByFields = ["metric.label.\"controller_name\""] })
            }
          }
        }]
        thresholds = var.anomaly_threshold == null ? [] : [{ value = var.anomaly_threshold, label = "alert threshold" }]
        yAxis      = { label = "score", scale = "LINEAR" }
      }
    },
    {
      title = "Notifications to ChatOps, by result"
      xyChart = {
        chartOptions = { mode = "COLOR" }
        dataSets = [
          {
            plotType = "STACKED_BAR"
            timeSeriesQuery = {
              timeSeriesFilter = {
                filter      = "metric.type=\"${local.prometheus_metrics.notifications}\" ${local.healer_target}"
                aggregation = merge(local.count_per_period, { groupByFields = ["metric.label.\"result\""] })
              }
            }
          },
          {
            plotType = "LINE"
            timeSeriesQuery = {
              timeSeriesFilter = {
                filter      = local.cloud_run_requests
                aggregation = merge(local.count_per_period, { perSeriesAligner = "ALIGN_SUM", groupByFields = ["metric.label.\"response_code_class\""] })
              }
            }
          },
        ]
        yAxis = { label = "notifications / requests", scale = "LINEAR" }
      }
    },
    {
      title = "Kubernetes API errors, by verb, resource and error"
      xyChart = {
        chartOptions = { mode = "COLOR" }
        dataSets = [{
          plotType = "STACKED_BAR"
          timeSeriesQuery = {
            timeSeriesFilter = {
              filter      = "metric.type=\"${local.prometheus_metrics.kube_api_calls}\" ${local.healer_target} metric.label.\"error\"!=\"none\""
              aggregation = merge(local.count_per_period, { groupByFields = ["metric.label.\"verb\"", "metric.label.\"resource\"", "metric.label.\"error\""] })
            }
          }
        }]
        yAxis = { label = "calls", scale = "LINEAR" }
      }
    },
    {
      title = "Redeliveries: transient failures, malformed messages, ledger conflicts"
      xyChart = {
        chartOptions = { mode = "COLOR" }
        dataSets = [
          for series in [
            { metric = local.prometheus_metrics.transient, by = ["metric.label.\"cause\""] },
            { metric = local.prometheus_metrics.malformed, by = [] },
            { metric = local.prometheus_metrics.ledger_conflicts, by = ["metric.label.\"status\""] },
            ] : {
            plotType = "STACKED_BAR"
            timeSeriesQuery = {
              timeSeriesFilter = {
                filter      = "metric.type=\"${series.metric}\" ${local.healer_target}"
                aggregation = merge(local.count_per_period, { groupByFields = series.by })
              }
            }
          }
        ]
        yAxis = { label = "deliveries", scale = "LINEAR" }
      }
    },
    {
      title = "Push subscription: unacked incidents"
      xyChart = {
        chartOptions = { mode = "COLOR" }
        dataSets = [{
          plotType = "LINE"
          timeSeriesQuery = {
            timeSeriesFilter = {
              filter      = "metric.type=\"${local.pubsub_metrics.unacked}\" ${local.push_subscription}"
              aggregation = local.gauge_max
            }
          }
        }]
        yAxis = { label = "messages", scale = "LINEAR" }
      }
    },
    {
      title = "Push subscription: oldest unacked incident age"
      xyChart = {
        chartOptions = { mode = "COLOR" }
        dataSets = [{
          plotType = "LINE"
          timeSeriesQuery = {
            timeSeriesFilter = {
              filter      = "metric.type=\"${local.pubsub_metrics.oldest_unacked}\" ${local.push_subscription}"
              aggregation = local.gauge_max
            }
          }
        }]
        yAxis = { label = "seconds", scale = "LINEAR" }
      }
    },
    {
      title = "Dead-letter topic: incidents forwarded, published and held"
      xyChart = {
        chartOptions = { mode = "COLOR" }
        dataSets = [
          {
            plotType = "STACKED_BAR"
            timeSeriesQuery = {
              timeSeriesFilter = {
                filter      = "metric.type=\"${local.pubsub_metrics.dead_lettered}\" ${local.push_subscription}"
                aggregation = merge(local.count_per_period, { perSeriesAligner = "ALIGN_SUM" })
              }
            }
          },
          {
            plotType = "LINE"
            timeSeriesQuery = {
              timeSeriesFilter = {
                filter      = "metric.type=\"${local.pubsub_metrics.topic_publishes}\" ${local.dead_letter_topic}"
                aggregation = merge(local.count_per_period, { perSeriesAligner = "ALIGN_SUM" })
              }
            }
          },
          {
            plotType = "LINE"
            timeSeriesQuery = {
              timeSeriesFilter = {
                filter      = "metric.type=\"${local.pubsub_metrics.unacked}\" ${local.dead_letter_subscription}"
                aggregation = local.gauge_max
              }
            }
          },
        ]
        yAxis = { label = "messages", scale = "LINEAR" }
      }
    },
  ]

  # Two columns of equal tiles on the 48-column mosaic grid.
  tile_width  = 24
  tile_height = 16
  tiles = [
    for index, widget in local.widgets : {
      xPos   = (index % 2) * local.tile_width
      yPos   = floor(index / 2) * local.tile_height
      width  = local.tile_width
      height = local.tile_height
      widget = widget
    }
  ]

  dashboard = {
    displayName  = var.display_name
    mosaicLayout = { columns = 48, tiles = local.tiles }
  }
}
