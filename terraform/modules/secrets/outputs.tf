output "secret_ids" {
  description = "Secret id => secret id (use as secret_key_ref.secret)."
  value       = { for k, s in google_secret_manager_secret.this : k => s.secret_id }
}

output "accessor_grant_ids" {
  description = "Ids of the accessor grants, so services can wait for them before their first revision."
  value       = [for g in google_secret_manager_secret_iam_member.accessors : g.id]
}
