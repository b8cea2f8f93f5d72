variable "project_id" {
  type        = string
  description = "Project that hosts the bucket."
}

variable "name" {
  type        = string
  description = "Globally unique bucket name."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$", var.name))
    error_message = "name must be 3-63 lowercase letters, digits, dots, underscores or dashes."
  }
}

variable "location" {
  type        = string
  description = "Bucket location, e.g. EUROPE-WEST1."
}

variable "versioning" {
  type        = bool
  description = "Keep noncurrent object versions."
  default     = true
}

variable "noncurrent_version_retention_days" {
  type        = number
  description = "Delete noncurrent versions after this many days."
  default     = 30
}

variable "delete_after_days" {
  type        = number
  description = "Delete live objects after this many days; null keeps them."
  default     = null
}

variable "kms_key_name" {
  type        = string
  description = "Optional Cloud KMS key (CMEK) for objects; null keeps Google-managed encryption."
  default     = null
}

variable "access_log_bucket" {
  type        = string
  description = "Optional bucket receiving usage logs; null relies on Cloud Audit Logs."
  default     = null
}

variable "force_destroy" {
  type        = bool
  description = "Allow terraform destroy to delete a non-empty bucket."
  default     = false
}

variable "iam_members" {
  type = map(object({
    role   = string
    member = string
  }))
  description = "Static key => {role, member} bucket-level grants."
  default     = {}

  validation {
    condition     = alltrue([for g in values(var.iam_members) : !contains(["allUsers", "allAuthenticatedUsers"], g.member)])
    error_message = "Buckets are never public: allUsers and allAuthenticatedUsers are rejected."
  }
}

variable "labels" {
  type        = map(string)
  description = "Labels set on the bucket."
  default     = {}
}
