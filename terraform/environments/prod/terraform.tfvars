project_id           = "selfheal-prod"
region               = "europe-west1"
gke_cluster_name     = "prod-gke"
gke_cluster_location = "europe-west1"
firestore_location   = "eur3"
bigquery_location    = "EU"

# Prod starts in dry-run: the healer decides and notifies; flip after reviewing its decisions.
healer_dry_run      = true
healed_namespaces   = ["shop"]
deletion_protection = true

healer_image   = "europe-west1-docker.pkg.dev/selfheal-prod/self-healing/healer:prod"
chatops_image  = "europe-west1-docker.pkg.dev/selfheal-prod/self-healing/chatops:prod"
dataflow_image = "europe-west1-docker.pkg.dev/selfheal-prod/self-healing/dataflow-features:prod"
