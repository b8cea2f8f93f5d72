# Push delivery of Monitoring incidents to the healer: the alert topic, an authenticated
# push subscription with retries and a dead-letter topic, and the service agent IAM.

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  pubsub_agent     = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  monitoring_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-monitoring-notification.iam.gserviceaccount.com"
}

resource "google_pubsub_topic" "alerts" {
  project                    = var.project_id
  name                       = var.topic_name
  kms_key_name               = var.kms_key_name
  message_retention_duration = "${var.message_retention_seconds}s"
  labels                     = var.labels
}

resource "google_pubsub_topic" "dead_letter" {
  project                    = var.project_id
  name                       = var.dead_letter_topic_name
  kms_key_name               = var.kms_key_name
  message_retention_duration = "${var.message_retention_seconds}s"
  labels                     = var.labels
}

# Messages published to a topic without a subscription are lost: keep dead letters here
# until someone inspects or replays them.
resource "google_pubsub_subscription" "dead_letter" {
  project                    = var.project_id
  name                       = "${var.dead_letter_topic_name}-hold"
  topic                      = google_pubsub_topic.dead_letter.id
  ack_deadline_seconds       = 60
  message_retention_duration = "${var.message_retention_seconds}s"
  labels                     = var.labels

  expiration_policy {
    ttl = ""
  }
}

resource "google_service_account" "push" {
  project      = var.project_id
  account_id   = var.push_service_account_id
  display_name = "Pub/Sub push to the healer"
  description  = "Identity in the OIDC token Pub/Sub attaches to incident pushes; holds run.invoker on the healer only."
}

resource "google_pubsub_subscription" "push" {
  project                    = var.project_id
  name                       = var.subscription_name
  topic                      = google_pubsub_topic.alerts.id
  ack_deadline_seconds       = var.ack_deadline_seconds
  message_retention_duration = "${var.message_retention_seconds}s"
  labels                     = var.labels

  push_config {
    push_endpoint = var.push_endpoint

    oidc_token {
      service_account_email = google_service_account.push.email
      audience              = var.push_audience
    }
  }

  retry_policy {
    minimum_backoff = "${var.minimum_backoff_seconds}s"
    maximum_backoff = "${var.maximum_backoff_seconds}s"
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [
    google_pubsub_topic_iam_member.dead_letter_publisher,
  ]
}

# Makes the Monitoring agent's grant wait for the notification channel that creates it.
resource "terraform_data" "notification_channels" {
  input = var.notification_channel_ids
}

resource "google_pubsub_topic_iam_member" "monitoring_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.alerts.name
  role    = "roles/pubsub.publisher"
  member  = local.monitoring_agent

  depends_on = [terraform_data.notification_channels]
}

# Dead lettering: the Pub/Sub agent publishes to the dead-letter topic and acknowledges
# the forwarded message on the source subscription.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_source_subscriber" {
  project      = var.project_id
  subscription = google_pubsub_subscription.push.name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_agent
}

# Lets the Pub/Sub agent mint the push OIDC token for this account only.
resource "google_service_account_iam_member" "pubsub_token_creator" {
  count = var.grant_pubsub_token_creator ? 1 : 0

  service_account_id = google_service_account.push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_agent
}
