variable "project_id" {
  type        = string
  description = "Project that hosts the whole self-healing system (and the GKE clusters it heals)."
}

variable "region" {
  type        = string
  description = "Region of Cloud Run, Dataflow, Vertex AI, Cloud Scheduler and the buckets, e.g. europe-west1."
}

variable "environment" {
  type        = string
  description = "Environment name, used in labels."

  validation {
    condition     = contains(["dev", "prod"], var.environment)
    error_message = "environment must be dev or prod."
  }
}

variable "name_prefix" {
  type        = string
  description = "Prefix of resource names; include the environment when several share a project (e.g. selfheal-dev)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,14}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-16 lowercase letters, digits or dashes starting with a letter."
  }
}

variable "images" {
  type = object({
    healer   = string
    chatops  = string
    dataflow = string
  })
  description = "Container images pinned by digest: healer, chatops (used by both ChatOps services) and the Dataflow flex template."

  validation {
    condition     = alltrue([for i in values(var.images) : can(regex("@sha256:[0-9a-f]{64}$", i)) || can(regex(":[A-Za-z0-9_.-]+$", i))])
    error_message = "Each image needs a digest (@sha256:...) or a tag."
  }
}

variable "artifact_registry_repository" {
  type        = string
  description = "Artifact Registry Docker repository (in var.region) that holds the images."
}

variable "healer_dry_run" {
  type        = bool
  description = "Start the healer in dry-run mode: it decides and notifies but does not change the cluster."
  default     = true
}

variable "healer_push_path" {
  type        = string
  description = "Path of the healer route that receives Pub/Sub pushes."
  default     = "/"

  validation {
    condition     = startswith(var.healer_push_path, "/")
    error_message = "healer_push_path must start with /."
  }
}

variable "healer_policy_file" {
  type        = string
  description = "Optional path, inside the healer image, of its healing policy file (HEALER_POLICY_FILE); null keeps the image default."
  default     = null
}

variable "chatops_routing_file" {
  type        = string
  description = "Path, inside the ChatOps image, of the routing YAML (CHATOPS_ROUTING_FILE, required by ChatOps). The image carries the repository's config/ under /app/config."
  default     = "/app/config/chatops/routing.yaml"

  validation {
    condition     = startswith(var.chatops_routing_file, "/")
    error_message = "chatops_routing_file must be an absolute path inside the image."
  }
}

variable "chatops_destination_secrets" {
  type        = map(string)
  description = "Environment variable => secret name suffix for the chat destinations the routing file names (its bot_token_env, webhook_url_env and workflow_url_env). Each becomes a secret <name_prefix>-<suffix> mounted into both ChatOps services."
  default = {
    SLACK_BOT_TOKEN    = "slack-bot-token"
    SLACK_WEBHOOK_URL  = "slack-webhook-url"
    TEAMS_WORKFLOW_URL = "teams-workflow-url"
  }

  validation {
    condition = alltrue([
      for env, suffix in var.chatops_destination_secrets :
      can(regex("^[A-Z][A-Z0-9_]*$", env)) && can(regex("^[a-z0-9-]+$", suffix)) && !contains(["SLACK_SIGNING_SECRET", "CHATOPS_LINK_SIGNING_KEY"], env)
    ])
    error_message = "Keys must be UPPER_SNAKE environment variable names (not SLACK_SIGNING_SECRET or CHATOPS_LINK_SIGNING_KEY, which are always mounted) and values lowercase dashed suffixes."
  }
}

variable "health_check_path" {
  type        = string
  description = "Health route every service answers (startup and liveness probes)."
  default     = "/healthz"
}

variable "healer_scaling" {
  type = object({
    min_instances = optional(number, 0)
    max_instances = optional(number, 3)
  })
  description = "Healer instance bounds (concurrency is fixed by the image's gunicorn threads)."
  default     = {}
}

variable "healer_vpc_access" {
  type = object({
    network    = string
    subnetwork = string
    egress     = optional(string, "PRIVATE_RANGES_ONLY")
  })
  description = "Optional Direct VPC egress for the healer, needed to reach private GKE control planes."
  default     = null
}

variable "ingress" {
  type = object({
    healer         = optional(string, "INGRESS_TRAFFIC_ALL")
    chatops_notify = optional(string, "INGRESS_TRAFFIC_ALL")
  })
  description = "Ingress of the private services (IAM protects them either way). The chat-interactions service is always INGRESS_TRAFFIC_ALL: Slack and Teams call it from the internet."
  default     = {}

  validation {
    condition = alltrue([
      for i in values(var.ingress) : contains(["INGRESS_TRAFFIC_ALL", "INGRESS_TRAFFIC_INTERNAL_ONLY", "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"], i)
    ])
    error_message = "ingress values must be INGRESS_TRAFFIC_ALL, INGRESS_TRAFFIC_INTERNAL_ONLY or INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER."
  }
}

variable "firestore_location" {
  type        = string
  description = "Firestore location of the databases (fixed at creation), e.g. europe-west1 or eur3."
}

variable "healer_firestore_database" {
  type        = string
  description = "Id of the healer's Firestore database (its ledger); null names it <name_prefix>-ledger."
  default     = null
}

variable "chatops_firestore_database" {
  type        = string
  description = "Id of the Firestore database ChatOps keeps its state in (the client default is (default))."
  default     = "(default)"
}

variable "manage_chatops_database" {
  type        = bool
  description = "Create the ChatOps database; set false when it already exists (e.g. a project's (default) database)."
  default     = true
}

variable "kubernetes_authorization" {
  type        = string
  description = "rbac: IAM only gets cluster credentials, Kubernetes Roles grant the rest in healed_namespaces. iam: a project-wide custom role carries everything."
  default     = "rbac"

  validation {
    condition     = contains(["rbac", "iam"], var.kubernetes_authorization)
    error_message = "kubernetes_authorization must be rbac or iam."
  }
}

variable "healed_namespaces" {
  type        = list(string)
  description = "Namespaces the healer may act in; empty means all (a ClusterRole in rbac mode)."
  default     = []
}

variable "monitored_clusters" {
  type        = list(string)
  description = "GKE clusters the alert policies watch; empty watches all clusters in the project."
  default     = []
}

variable "alert_rules_file" {
  type        = string
  description = "Path of config/alert_rules.yaml, shared with the local alert evaluator."
}

variable "runbook_url" {
  type        = string
  description = "Optional runbook link added to every policy's documentation."
  default     = null
}

variable "bigquery_location" {
  type        = string
  description = "BigQuery dataset location (EU, US or a region)."
}

variable "bigquery_schema_dir" {
  type        = string
  description = "Directory of the BigQuery JSON schemas (config/bigquery)."
}

variable "flex_template_metadata_file" {
  type        = string
  description = "Path of docker/dataflow/metadata.json (flex template parameters)."
}

variable "dataflow_enabled" {
  type        = bool
  description = "Launch the streaming feature and scoring Dataflow job."
  default     = true
}

variable "serving_model_uri" {
  type        = string
  description = "gs:// directory of the promoted model artifact the Dataflow job scores with; null runs it without scoring."
  default     = null
}

variable "training_pipeline_spec_file" {
  type        = string
  description = "Path of the compiled training pipeline YAML; null skips the training schedule."
  default     = null
}

variable "training_schedule" {
  type        = string
  description = "Cron schedule of model training."
  default     = "0 3 * * *"
}

variable "training_parameter_values" {
  type        = map(string)
  description = "Runtime parameters of the training pipeline."
  default     = {}
}

variable "metrics_sidecar" {
  type = object({
    enabled = optional(bool, true)
    image   = optional(string)
  })
  description = "Managed Service for Prometheus sidecar on the healer and ChatOps notify services: scrapes their /metrics (port 8080) into Cloud Monitoring, where the dashboard charts them; their runtime accounts get roles/monitoring.metricWriter. image null keeps the cloud_run_service module's pinned sidecar image."
  default     = {}
  nullable    = false

  validation {
    condition     = var.metrics_sidecar.image == null ? true : can(regex("@sha256:[0-9a-f]{64}$", var.metrics_sidecar.image)) || (can(regex(":[A-Za-z0-9_.-]+$", var.metrics_sidecar.image)) && !endswith(var.metrics_sidecar.image, ":latest"))
    error_message = "metrics_sidecar.image must be pinned by digest (@sha256:...) or by a version tag other than latest."
  }
}

variable "cmek" {
  type = object({
    pubsub    = optional(string)
    storage   = optional(string)
    bigquery  = optional(string)
    firestore = optional(string)
    cloud_run = optional(string)
    secrets   = optional(string)
    dataflow  = optional(string)
    vertex    = optional(string)
  })
  description = "Optional Cloud KMS keys (CMEK) per service: regional keys in var.region, except secrets (a global key, automatic replication). Each service agent needs encrypter/decrypter on its key. Unset keeps Google-managed encryption."
  default     = {}
}

variable "deletion_protection" {
  type        = bool
  description = "Protect services, tables and databases from terraform destroy."
  default     = true
}

variable "labels" {
  type        = map(string)
  description = "Extra labels on every resource that takes them."
  default     = {}
}
