output "name" {
  description = "Database id (what HEALER_FIRESTORE_DATABASE and clients take)."
  value       = google_firestore_database.this.name
}

output "id" {
  description = "Full database resource id."
  value       = google_firestore_database.this.id
}
