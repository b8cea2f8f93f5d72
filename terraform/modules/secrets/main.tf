# Secret Manager secrets (containers only: no values in Terraform state) and per-secret
# accessor grants.

locals {
  grants = merge([
    for accessor, a in var.accessors : {
      for s in a.secret_ids : "${accessor}/${s}" => { member = a.member, secret_id = s }
    }
  ]...)
}

resource "google_secret_manager_secret" "this" {
  for_each = toset(var.secret_ids)

  project   = var.project_id
  secret_id = each.key
  labels    = var.labels

  replication {
    auto {
      dynamic "customer_managed_encryption" {
        for_each = var.kms_key_name == null ? [] : [var.kms_key_name]
        content {
          kms_key_name = customer_managed_encryption.value
        }
      }
    }
  }
}

resource "google_secret_manager_secret_iam_member" "accessors" {
  for_each = local.grants

  project   = var.project_id
  secret_id = google_secret_manager_secret.this[each.value.secret_id].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = each.value.member
}
