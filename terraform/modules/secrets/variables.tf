variable "project_id" {
  type        = string
  description = "Project that hosts the secrets."
}

variable "secret_ids" {
  type        = list(string)
  description = "Secret Manager secret ids to create. Values are added out of band (gcloud secrets versions add), never through Terraform."

  validation {
    condition     = alltrue([for s in var.secret_ids : can(regex("^[a-zA-Z0-9_-]{1,255}$", s))])
    error_message = "secret ids may contain letters, digits, underscores and dashes only."
  }
}

variable "accessors" {
  type = map(object({
    member     = string
    secret_ids = list(string)
  }))
  description = "Static key => {member, secret_ids}: who may read which secrets (roles/secretmanager.secretAccessor on each secret only)."
  default     = {}
}

variable "kms_key_name" {
  type        = string
  description = "Optional global Cloud KMS key (CMEK) for automatic replication; null keeps Google-managed encryption."
  default     = null
}

variable "labels" {
  type        = map(string)
  description = "Labels set on the secrets."
  default     = {}
}
