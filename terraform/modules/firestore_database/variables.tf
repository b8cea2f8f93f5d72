variable "project_id" {
  type        = string
  description = "Project that hosts the Firestore database."
}

variable "database_id" {
  type        = string
  description = "Database id, e.g. healer-ledger, or (default)."

  validation {
    condition     = var.database_id == "(default)" || can(regex("^[a-z][a-z0-9-]{2,61}[a-z0-9]$", var.database_id))
    error_message = "database_id must be (default) or 4-63 lowercase letters, digits or dashes starting with a letter."
  }
}

variable "location_id" {
  type        = string
  description = "Firestore location, e.g. europe-west1 or eur3. Fixed at creation."
}

variable "point_in_time_recovery" {
  type        = bool
  description = "Keep 7 days of point-in-time recovery."
  default     = true
}

variable "delete_protection" {
  type        = bool
  description = "Protect the database from deletion (and abandon it on terraform destroy)."
  default     = true
}

variable "kms_key_name" {
  type        = string
  description = "Optional Cloud KMS key (CMEK) in the database's location; null keeps Google-managed encryption."
  default     = null
}

variable "user_members" {
  type        = map(string)
  description = "Static key => IAM member granted roles/datastore.user, conditioned on this database only."
  default     = {}
}
