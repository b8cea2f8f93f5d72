output "custom_role_id" {
  description = "Id of the custom IAM role granted to the healer."
  value       = google_project_iam_custom_role.healer.id
}

output "permissions" {
  description = "IAM permissions in the custom role."
  value       = local.permissions
}

output "rbac_namespaces" {
  description = "Namespaces with a Role and RoleBinding for the healer (empty when cluster-wide or IAM-only)."
  value       = sort(tolist(local.rbac_namespaces))
}
