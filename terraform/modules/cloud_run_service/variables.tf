variable "project_id" {
  type        = string
  description = "Project that hosts the Cloud Run service."
}

variable "region" {
  type        = string
  description = "Cloud Run region, e.g. europe-west1."
}

variable "name" {
  type        = string
  description = "Service name (lowercase letters, digits and dashes, at most 49 characters)."

  validation {
    condition     = can(regex("^[a-z]([a-z0-9-]{0,47}[a-z0-9])?$", var.name))
    error_message = "name must be lowercase letters, digits or dashes, start with a letter and be at most 49 characters."
  }
}

variable "description" {
  type        = string
  description = "Human-readable description of the service."
  default     = ""
}

variable "image" {
  type        = string
  description = "Container image, preferably pinned by digest (REGION-docker.pkg.dev/P/REPO/NAME@sha256:...)."
}

variable "service_account_email" {
  type        = string
  description = "Runtime service account (one per service, least privilege)."
}

variable "env" {
  type        = map(string)
  description = "Plain environment variables (never secrets)."
  default     = {}
}

variable "secret_env" {
  type = map(object({
    secret  = string
    version = optional(string, "latest")
  }))
  description = "Environment variables read from Secret Manager: NAME => {secret = secret id, version}. The runtime service account needs secretAccessor on each."
  default     = {}
}

variable "ingress" {
  type        = string
  description = "Who may reach the service over the network."
  default     = "INGRESS_TRAFFIC_ALL"

  validation {
    condition     = contains(["INGRESS_TRAFFIC_ALL", "INGRESS_TRAFFIC_INTERNAL_ONLY", "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER"], var.ingress)
    error_message = "ingress must be INGRESS_TRAFFIC_ALL, INGRESS_TRAFFIC_INTERNAL_ONLY or INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER."
  }
}

variable "min_instances" {
  type        = number
  description = "Minimum number of instances kept warm."
  default     = 0

  validation {
    condition     = var.min_instances >= 0
    error_message = "min_instances must be >= 0."
  }
}

variable "max_instances" {
  type        = number
  description = "Maximum number of instances."
  default     = 5

  validation {
    condition     = var.max_instances >= 1
    error_message = "max_instances must be >= 1."
  }
}

variable "concurrency" {
  type        = number
  description = "Requests per instance; match it to gunicorn workers x threads in the image."
  default     = 8

  validation {
    condition     = var.concurrency >= 1 && var.concurrency <= 1000
    error_message = "concurrency must be between 1 and 1000."
  }
}

variable "request_timeout_seconds" {
  type        = number
  description = "Request timeout (1-3600 s)."
  default     = 60

  validation {
    condition     = var.request_timeout_seconds >= 1 && var.request_timeout_seconds <= 3600
    error_message = "request_timeout_seconds must be between 1 and 3600."
  }
}

variable "cpu" {
  type        = string
  description = "CPU limit per instance, e.g. \"1\"."
  default     = "1"
}

variable "memory" {
  type        = string
  description = "Memory limit per instance, e.g. \"512Mi\"."
  default     = "512Mi"
}

variable "container_port" {
  type        = number
  description = "Port the container listens on (passed as PORT)."
  default     = 8080
}

variable "health_check_path" {
  type        = string
  description = "Optional HTTP path for startup and liveness probes; null uses Cloud Run's default TCP startup probe."
  default     = null
}

variable "invoker_members" {
  type        = map(string)
  description = "Static key => IAM member granted roles/run.invoker on this service only (e.g. push = serviceAccount:...). Public access is not accepted here; see allow_unauthenticated."
  default     = {}

  validation {
    condition     = alltrue([for m in values(var.invoker_members) : !contains(["allUsers", "allAuthenticatedUsers"], m)])
    error_message = "invoker_members must name identities; allAuthenticatedUsers is never allowed and allUsers only through allow_unauthenticated."
  }
}

variable "allow_unauthenticated" {
  type        = bool
  description = "Grant roles/run.invoker to allUsers. Only for an endpoint that authenticates every request itself (e.g. Slack signatures), because its callers cannot send Google ID tokens."
  default     = false
}

variable "vpc_access" {
  type = object({
    network    = string
    subnetwork = string
    egress     = optional(string, "PRIVATE_RANGES_ONLY")
  })
  description = "Optional Direct VPC egress (e.g. to reach a private GKE control plane); null disables it."
  default     = null

  validation {
    condition     = var.vpc_access == null || contains(["ALL_TRAFFIC", "PRIVATE_RANGES_ONLY"], try(var.vpc_access.egress, ""))
    error_message = "vpc_access.egress must be ALL_TRAFFIC or PRIVATE_RANGES_ONLY."
  }
}

variable "encryption_key" {
  type        = string
  description = "Optional Cloud KMS key (CMEK) for the container image and revision data; null keeps Google-managed encryption."
  default     = null
}

variable "prometheus_sidecar" {
  type = object({
    enabled       = optional(bool, false)
    image         = optional(string, "us-docker.pkg.dev/cloud-ops-agents-artifacts/cloud-run-gmp-sidecar/cloud-run-gmp-sidecar:1.2.0")
    config_secret = optional(string)
    cpu           = optional(string, "1")
    memory        = optional(string, "256Mi")
  })
  description = "Managed Service for Prometheus sidecar (off by default). When enabled, a second container (image pinned by tag or digest) starts after the app and writes its Prometheus metrics to Cloud Monitoring; the runtime service account needs roles/monitoring.metricWriter. config_secret: optional Secret Manager secret id holding a RunMonitoring config (mounted as /etc/rungmp/config.yaml; the runtime account needs secretAccessor on it); null scrapes the default endpoint, port 8080 path /metrics."
  default     = {}
  nullable    = false

  validation {
    condition     = can(regex("@sha256:[0-9a-f]{64}$", var.prometheus_sidecar.image)) || (can(regex(":[A-Za-z0-9_.-]+$", var.prometheus_sidecar.image)) && !endswith(var.prometheus_sidecar.image, ":latest"))
    error_message = "prometheus_sidecar.image must be pinned by digest (@sha256:...) or by a version tag other than latest."
  }

  validation {
    condition     = !var.prometheus_sidecar.enabled || var.prometheus_sidecar.config_secret != null || var.container_port == 8080
    error_message = "Without prometheus_sidecar.config_secret the sidecar scrapes port 8080 only: set container_port = 8080 or give a RunMonitoring config that names the port."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "Block terraform destroy of the service."
  default     = true
}

variable "labels" {
  type        = map(string)
  description = "Labels set on the service and its revisions."
  default     = {}
}
