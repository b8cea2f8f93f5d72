variable "project_id" {
  type        = string
  description = "Project that hosts the system and the GKE cluster it heals."
}

variable "region" {
  type        = string
  description = "Region of the regional resources, e.g. europe-west1."
}

variable "gke_cluster_name" {
  type        = string
  description = "GKE cluster the healer operates on (its RBAC is applied there)."
}

variable "gke_cluster_location" {
  type        = string
  description = "Location (region or zone) of the GKE cluster."
}

variable "artifact_registry_repository" {
  type        = string
  description = "Artifact Registry Docker repository (in var.region) holding the images."
  default     = "self-healing"
}

variable "healer_image" {
  type        = string
  description = "Healer image, pinned by digest (Cloud Build passes it)."
}

variable "chatops_image" {
  type        = string
  description = "ChatOps image, pinned by digest (Cloud Build passes it)."
}

variable "dataflow_image" {
  type        = string
  description = "Dataflow flex template image, pinned by digest (Cloud Build passes it)."
}

variable "healer_dry_run" {
  type        = bool
  description = "Run the healer in dry-run mode (decide and notify, change nothing)."
}

variable "kubernetes_authorization" {
  type        = string
  description = "rbac (Kubernetes Roles in healed_namespaces) or iam (project-wide custom role)."
  default     = "rbac"

  validation {
    condition     = contains(["rbac", "iam"], var.kubernetes_authorization)
    error_message = "kubernetes_authorization must be rbac or iam."
  }
}

variable "healed_namespaces" {
  type        = list(string)
  description = "Namespaces the healer watches and may act in; empty means all."
  default     = []
}

variable "firestore_location" {
  type        = string
  description = "Firestore location of the healer and ChatOps databases."
}

variable "manage_chatops_database" {
  type        = bool
  description = "Create the ChatOps (default) Firestore database; false when the project already has one."
  default     = true
}

variable "bigquery_location" {
  type        = string
  description = "BigQuery dataset location."
}

variable "dataflow_enabled" {
  type        = bool
  description = "Launch the streaming feature and scoring Dataflow job."
  default     = true
}

variable "serving_model_uri" {
  type        = string
  description = "gs:// directory of the promoted model the Dataflow job scores with; null runs it without scoring."
  default     = null
}

variable "training_pipeline_spec_file" {
  type        = string
  description = "Path of the compiled training pipeline YAML (Cloud Build compiles it); null skips the training schedule."
  default     = null
}

variable "runbook_url" {
  type        = string
  description = "Optional runbook link shown with every alert."
  default     = null
}

variable "deletion_protection" {
  type        = bool
  description = "Protect services, tables and databases from terraform destroy."
}
