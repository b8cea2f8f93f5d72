variable "project_id" {
  type        = string
  description = "Project of the GKE cluster(s) the healer operates on."
}

variable "healer_service_account_email" {
  type        = string
  description = "Email of the healer's runtime service account."
}

variable "role_id" {
  type        = string
  description = "Id of the project custom role (letters, digits, underscores and dots)."
  default     = "selfHealingGkeOperator"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.]{3,64}$", var.role_id))
    error_message = "role_id must be 3-64 letters, digits, underscores or dots."
  }
}

variable "authorization" {
  type        = string
  description = "Where the Kubernetes permissions live. rbac: IAM only lets the healer get cluster credentials and Kubernetes Roles in the healed namespaces grant the rest (least privilege). iam: the custom role also carries the workload permissions, project-wide."
  default     = "rbac"

  validation {
    condition     = contains(["rbac", "iam"], var.authorization)
    error_message = "authorization must be rbac or iam."
  }
}

variable "namespaces" {
  type        = list(string)
  description = "Namespaces the healer may act in (rbac mode). Empty grants a ClusterRole across all namespaces instead."
  default     = []
}

variable "rbac_name" {
  type        = string
  description = "Name of the Kubernetes Role/ClusterRole and binding."
  default     = "self-healing-healer"
}
