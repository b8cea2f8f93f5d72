project_id           = "selfheal-dev"
region               = "europe-west1"
gke_cluster_name     = "dev-gke"
gke_cluster_location = "europe-west1"
firestore_location   = "europe-west1"
bigquery_location    = "EU"

# Dev acts for real on its own cluster, but only in the demo namespaces.
healer_dry_run      = false
healed_namespaces   = ["shop", "demo"]
deletion_protection = false

# Images are passed by Cloud Build (-var healer_image=...@sha256:...); these tags let a
# developer plan without a build.
healer_image   = "europe-west1-docker.pkg.dev/selfheal-dev/self-healing/healer:dev"
chatops_image  = "europe-west1-docker.pkg.dev/selfheal-dev/self-healing/chatops:dev"
dataflow_image = "europe-west1-docker.pkg.dev/selfheal-dev/self-healing/dataflow-features:dev"
