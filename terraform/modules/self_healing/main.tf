# The self-healing use case: Cloud Monitoring alerts -> Pub/Sub push -> Cloud Run healer ->
# GKE, with ChatOps (one private notify service, one public chat-interactions service) and
# the data/ML path that feeds the anomaly alert. Composed of one small module per concern.

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  labels = merge(var.labels, {
    app         = "self-healing"
    environment = var.environment
  })

  service_names = {
    healer            = "${var.name_prefix}-healer"
    chatops_notify    = "${var.name_prefix}-chatops-notify"
    chat_interactions = "${var.name_prefix}-chat-interactions"
  }

  # Cloud Run's deterministic URLs (https://SERVICE-PROJECT_NUMBER.REGION.run.app) are known
  # before the services exist, so services can name each other (and themselves, as token
  # audiences) without a dependency cycle.
  urls = {
    for k, name in local.service_names : k => "https://${name}-${data.google_project.this.number}.${var.region}.run.app"
  }

  members = {
    healer            = "serviceAccount:${google_service_account.healer.email}"
    chatops_notify    = "serviceAccount:${google_service_account.chatops_notify.email}"
    chat_interactions = "serviceAccount:${google_service_account.chat_interactions.email}"
  }

  # Secrets ChatOps always needs, plus one per chat destination the routing file names.
  chatops_secret_names = merge(
    {
      SLACK_SIGNING_SECRET     = "${var.name_prefix}-slack-signing-secret"
      CHATOPS_LINK_SIGNING_KEY = "${var.name_prefix}-chatops-link-signing-key"
    },
    { for env, suffix in var.chatops_destination_secrets : env => "${var.name_prefix}-${suffix}" },
  )

  chatops_database = var.manage_chatops_database ? module.chatops_database[0].name : var.chatops_firestore_database

  healer_env = {
    HEALER_PUSH_AUDIENCE            = local.urls.healer
    HEALER_PUSH_SERVICE_ACCOUNTS    = module.push_delivery.push_service_account_email
    HEALER_CONTROL_SERVICE_ACCOUNTS = google_service_account.chat_interactions.email
    HEALER_DRY_RUN                  = tostring(var.healer_dry_run)
    HEALER_LEDGER                   = "firestore"
    HEALER_FIRESTORE_DATABASE       = module.healer_database.name
    GOOGLE_CLOUD_PROJECT            = var.project_id
    HEALER_KUBE_MODE                = "gke"
    HEALER_CHATOPS_URL              = local.urls.chatops_notify
    HEALER_CHATOPS_AUDIENCE         = local.urls.chatops_notify
    HEALER_EVIDENCE_BUCKET          = "gs://${module.evidence_bucket.name}"
    HEALER_ACTIONS_TABLE            = module.ml_platform.table_ids["healing_actions"]
  }
  healer_optional_env = var.healer_policy_file == null ? {} : { HEALER_POLICY_FILE = var.healer_policy_file }

  # Both ChatOps services run the same image; CHATOPS_ROUTES selects what each serves.
  chatops_env = {
    CHATOPS_NOTIFY_AUDIENCE         = local.urls.chatops_notify
    CHATOPS_HEALER_SERVICE_ACCOUNTS = google_service_account.healer.email
    CHATOPS_HEALER_URL              = local.urls.healer
    CHATOPS_HEALER_AUDIENCE         = local.urls.healer
    CHATOPS_PUBLIC_URL              = local.urls.chat_interactions
    CHATOPS_STATE                   = "firestore"
    GOOGLE_CLOUD_PROJECT            = var.project_id
    CHATOPS_ROUTING_FILE            = var.chatops_routing_file
  }

  # The routing file names the environment variables holding each destination's webhook
  # URL or bot token, and ChatOps resolves all of them at start-up whatever routes it
  # serves, so both ChatOps services mount the same secrets.
  chatops_secret_env = {
    for env, secret in local.chatops_secret_names : env => { secret = module.secrets.secret_ids[secret] }
  }

  # Services that run the managed-Prometheus sidecar (their /metrics on port 8080); only their
  # runtime accounts get roles/monitoring.metricWriter.
  metrics_sidecar_members = var.metrics_sidecar.enabled ? {
    healer         = local.members.healer
    chatops_notify = local.members.chatops_notify
  } : {}

  # The anomaly policy's threshold, drawn on the dashboard's anomaly chart (same rules file).
  anomaly_threshold = try(one([for p in yamldecode(file(var.alert_rules_file)).policies : p.threshold if p.kind == "anomaly"]), null)
}

# ---------------------------------------------------------------- identities
# One runtime service account per service; every grant below names one of them.

resource "google_service_account" "healer" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-healer"
  display_name = "Self-healing healer"
  description  = "Healer runtime: GKE access, its Firestore ledger, insert into healing_actions, write evidence, invoke ChatOps notify."
}

resource "google_service_account" "chatops_notify" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-notify"
  display_name = "ChatOps notify"
  description  = "ChatOps notify runtime: posts healer notifications to Slack and Teams."
}

resource "google_service_account" "chat_interactions" {
  project      = var.project_id
  account_id   = "${var.name_prefix}-chat"
  display_name = "ChatOps chat interactions"
  description  = "Public chat-interactions runtime: verifies Slack/Teams requests and calls the healer's control API."
}

# ---------------------------------------------------------------- alert delivery

module "push_delivery" {
  source = "../push_delivery"

  project_id              = var.project_id
  topic_name              = "${var.name_prefix}-alerts"
  subscription_name       = "${var.name_prefix}-alerts-to-healer"
  dead_letter_topic_name  = "${var.name_prefix}-alerts-dead-letter"
  push_service_account_id = "${var.name_prefix}-push"
  push_endpoint           = "${local.urls.healer}${var.healer_push_path}"
  push_audience           = local.urls.healer
  notification_channel_ids = [
    module.alerting.notification_channel_id,
  ]
  kms_key_name = var.cmek.pubsub
  labels       = local.labels
}

module "alerting" {
  source = "../alerting"

  project_id            = var.project_id
  alert_rules_file      = var.alert_rules_file
  alert_topic_id        = module.push_delivery.topic_id
  channel_display_name  = "${var.name_prefix} healer (pubsub)"
  cluster_names         = var.monitored_clusters
  namespaces            = var.healed_namespaces
  metric_descriptor_ids = module.ml_platform.metric_descriptor_ids
  runbook_url           = var.runbook_url
  user_labels           = { environment = var.environment }
}

# ---------------------------------------------------------------- state

module "healer_database" {
  source = "../firestore_database"

  project_id        = var.project_id
  database_id       = coalesce(var.healer_firestore_database, "${var.name_prefix}-ledger")
  location_id       = var.firestore_location
  delete_protection = var.deletion_protection
  kms_key_name      = var.cmek.firestore
  user_members      = { healer = local.members.healer }
}

module "chatops_database" {
  source = "../firestore_database"
  count  = var.manage_chatops_database ? 1 : 0

  project_id        = var.project_id
  database_id       = var.chatops_firestore_database
  location_id       = var.firestore_location
  delete_protection = var.deletion_protection
  kms_key_name      = var.cmek.firestore
  user_members = {
    chatops_notify    = local.members.chatops_notify
    chat_interactions = local.members.chat_interactions
  }
}

resource "google_project_iam_member" "chatops_database_users" {
  for_each = var.manage_chatops_database ? {} : {
    chatops_notify    = local.members.chatops_notify
    chat_interactions = local.members.chat_interactions
  }

  project = var.project_id
  role    = "roles/datastore.user"
  member  = each.value

  condition {
    title       = "only-chatops-database"
    description = "Firestore database ${var.chatops_firestore_database} only."
    expression  = "resource.name == \"projects/${var.project_id}/databases/${var.chatops_firestore_database}\""
  }
}

module "evidence_bucket" {
  source = "../gcs_bucket"

  project_id        = var.project_id
  name              = "${var.project_id}-${var.name_prefix}-evidence"
  location          = upper(var.region)
  kms_key_name      = var.cmek.storage
  delete_after_days = 90
  labels            = local.labels

  iam_members = {
    healer_writer = { role = "roles/storage.objectCreator", member = local.members.healer }
  }
}

module "ml_platform" {
  source = "../ml_platform"

  project_id                  = var.project_id
  region                      = var.region
  name_prefix                 = var.name_prefix
  dataset_id                  = replace(var.name_prefix, "-", "_")
  bigquery_location           = var.bigquery_location
  bigquery_schema_dir         = var.bigquery_schema_dir
  actions_table_writers       = { healer = local.members.healer }
  dataflow_enabled            = var.dataflow_enabled
  dataflow_image              = var.images.dataflow
  flex_template_metadata_file = var.flex_template_metadata_file
  serving_model_uri           = var.serving_model_uri
  metrics_export_cluster      = length(var.monitored_clusters) == 1 ? var.monitored_clusters[0] : null
  training_pipeline_spec_file = var.training_pipeline_spec_file
  training_schedule           = var.training_schedule
  training_parameter_values   = var.training_parameter_values
  deletion_protection         = var.deletion_protection
  labels                      = local.labels

  artifact_registry_repository = {
    location   = var.region
    repository = var.artifact_registry_repository
  }

  cmek = {
    bigquery  = var.cmek.bigquery
    storage   = var.cmek.storage
    pubsub    = var.cmek.pubsub
    dataflow  = var.cmek.dataflow
    vertex    = var.cmek.vertex
    cloud_run = var.cmek.cloud_run
  }
}

# ---------------------------------------------------------------- GKE

module "gke_access" {
  source = "../gke_access"

  project_id                   = var.project_id
  healer_service_account_email = google_service_account.healer.email
  role_id                      = "${replace(var.name_prefix, "-", "_")}_gke_operator"
  authorization                = var.kubernetes_authorization
  namespaces                   = var.healed_namespaces
  rbac_name                    = "${var.name_prefix}-healer"
}

# ---------------------------------------------------------------- ChatOps secrets

module "secrets" {
  source = "../secrets"

  project_id   = var.project_id
  secret_ids   = values(local.chatops_secret_names)
  kms_key_name = var.cmek.secrets
  labels       = local.labels

  accessors = {
    chatops_notify    = { member = local.members.chatops_notify, secret_ids = values(local.chatops_secret_names) }
    chat_interactions = { member = local.members.chat_interactions, secret_ids = values(local.chatops_secret_names) }
  }
}

# ---------------------------------------------------------------- services

# Private. Invokable by the push identity (incidents) and by the chat-interactions service
# (control API) only; the healer also checks the token's email in code.
module "healer" {
  source = "../cloud_run_service"

  project_id            = var.project_id
  region                = var.region
  name                  = local.service_names.healer
  description           = "Receives Monitoring incidents over Pub/Sub push and heals GKE workloads."
  image                 = var.images.healer
  service_account_email = google_service_account.healer.email
  ingress               = var.ingress.healer
  min_instances         = var.healer_scaling.min_instances
  max_instances         = var.healer_scaling.max_instances
  concurrency           = 8
  # The push request waits for the decision; keep it within the subscription's ack deadline.
  request_timeout_seconds = 60
  vpc_access              = var.healer_vpc_access
  encryption_key          = var.cmek.cloud_run
  deletion_protection     = var.deletion_protection
  health_check_path       = var.health_check_path
  labels                  = local.labels

  env = merge(local.healer_env, local.healer_optional_env)

  prometheus_sidecar = {
    enabled = contains(keys(local.metrics_sidecar_members), "healer")
    image   = var.metrics_sidecar.image
  }

  invoker_members = {
    push              = module.push_delivery.push_service_account_member
    chat_interactions = local.members.chat_interactions
  }
}

# Private. Only the healer may post notifications.
module "chatops_notify" {
  source = "../cloud_run_service"

  project_id              = var.project_id
  region                  = var.region
  name                    = local.service_names.chatops_notify
  description             = "ChatOps /notify: turns healer notifications into Slack and Teams messages."
  image                   = var.images.chatops
  service_account_email   = google_service_account.chatops_notify.email
  ingress                 = var.ingress.chatops_notify
  max_instances           = 3
  concurrency             = 8
  request_timeout_seconds = 30
  encryption_key          = var.cmek.cloud_run
  deletion_protection     = var.deletion_protection
  health_check_path       = var.health_check_path
  labels                  = local.labels

  env = merge(local.chatops_env, { CHATOPS_ROUTES = "notify" })

  secret_env = local.chatops_secret_env

  prometheus_sidecar = {
    enabled = contains(keys(local.metrics_sidecar_members), "chatops_notify")
    image   = var.metrics_sidecar.image
  }

  invoker_members = {
    healer = local.members.healer
  }

  depends_on = [module.secrets]
}

# The only public entry point. Slack and Teams cannot send Google ID tokens, so this service
# (the ChatOps image serving only the interaction routes: Slack interactivity and slash
# commands, signed Teams links) is invokable by allUsers and authenticates every request
# itself: Slack's v0 request signature, or the link's HMAC signature and expiry.
module "chat_interactions" {
  source = "../cloud_run_service"

  project_id              = var.project_id
  region                  = var.region
  name                    = local.service_names.chat_interactions
  description             = "Public ChatOps interaction routes (Slack interactivity/slash commands, signed Teams links)."
  image                   = var.images.chatops
  service_account_email   = google_service_account.chat_interactions.email
  ingress                 = "INGRESS_TRAFFIC_ALL"
  max_instances           = 3
  concurrency             = 8
  request_timeout_seconds = 30
  encryption_key          = var.cmek.cloud_run
  deletion_protection     = var.deletion_protection
  health_check_path       = var.health_check_path
  labels                  = local.labels
  allow_unauthenticated   = true

  env = merge(local.chatops_env, { CHATOPS_ROUTES = "interactions" })

  secret_env = local.chatops_secret_env

  depends_on = [module.secrets]
}

# ---------------------------------------------------------------- observability

# The sidecar writes the scraped series as the service's runtime identity.
resource "google_project_iam_member" "metric_writers" {
  for_each = local.metrics_sidecar_members

  project = var.project_id
  role    = "roles/monitoring.metricWriter"
  member  = each.value
}

module "dashboard" {
  source = "../dashboard"

  project_id               = var.project_id
  display_name             = "Self-healing (${var.name_prefix})"
  healer_service           = module.healer.name
  chatops_notify_service   = module.chatops_notify.name
  push_subscription        = basename(module.push_delivery.subscription_id)
  dead_letter_topic        = basename(module.push_delivery.dead_letter_topic_id)
  dead_letter_subscription = basename(module.push_delivery.dead_letter_subscription_id)
  anomaly_metric_type      = module.ml_platform.anomaly_metric_type
  anomaly_threshold        = local.anomaly_threshold
  alert_policy_ids         = values(module.alerting.policy_ids)
}
