locals {
  repo_root = "${path.root}/../../.."
}

module "self_healing" {
  source = "../../modules/self_healing"

  project_id  = var.project_id
  region      = var.region
  environment = "prod"
  name_prefix = "selfheal-prod"

  images = {
    healer   = var.healer_image
    chatops  = var.chatops_image
    dataflow = var.dataflow_image
  }
  artifact_registry_repository = var.artifact_registry_repository

  healer_dry_run           = var.healer_dry_run
  kubernetes_authorization = var.kubernetes_authorization
  healed_namespaces        = var.healed_namespaces
  monitored_clusters       = [var.gke_cluster_name]

  firestore_location      = var.firestore_location
  manage_chatops_database = var.manage_chatops_database
  bigquery_location       = var.bigquery_location
  dataflow_enabled        = var.dataflow_enabled
  runbook_url             = var.runbook_url
  deletion_protection     = var.deletion_protection

  alert_rules_file            = "${local.repo_root}/config/alert_rules.yaml"
  bigquery_schema_dir         = "${local.repo_root}/config/bigquery"
  flex_template_metadata_file = "${local.repo_root}/docker/dataflow/metadata.json"
  serving_model_uri           = var.serving_model_uri
  training_pipeline_spec_file = var.training_pipeline_spec_file
}
