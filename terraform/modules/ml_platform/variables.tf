variable "project_id" {
  type        = string
  description = "Project that hosts the data and ML resources."
}

variable "region" {
  type        = string
  description = "Region of the Dataflow job, the buckets, Vertex AI and Cloud Scheduler, e.g. europe-west1."
}

variable "name_prefix" {
  type        = string
  description = "Prefix of resource names (lowercase, e.g. selfheal-dev)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,14}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-16 lowercase letters, digits or dashes starting with a letter."
  }
}

variable "bigquery_location" {
  type        = string
  description = "BigQuery dataset location (EU, US or a region)."
}

variable "dataset_id" {
  type        = string
  description = "BigQuery dataset holding features, anomaly scores and healing actions."
  default     = "self_healing"

  validation {
    condition     = can(regex("^[a-zA-Z0-9_]{1,1024}$", var.dataset_id))
    error_message = "dataset_id may contain letters, digits and underscores only."
  }
}

variable "bigquery_schema_dir" {
  type        = string
  description = "Directory with features.json, anomaly_scores.json and healing_actions.json (BigQuery JSON schemas)."

  validation {
    condition = alltrue([
      for t in ["features", "anomaly_scores", "healing_actions"] : fileexists("${var.bigquery_schema_dir}/${t}.json")
    ])
    error_message = "bigquery_schema_dir must contain features.json, anomaly_scores.json and healing_actions.json."
  }
}

variable "table_expiration_days" {
  type        = map(number)
  description = "Partition expiration per table (features, anomaly_scores, healing_actions); a missing table keeps partitions forever."
  default = {
    features       = 90
    anomaly_scores = 90
  }
}

variable "actions_table_writers" {
  type        = map(string)
  description = "Static key => IAM member allowed to insert rows into the healing_actions table (and nothing else)."
  default     = {}
}

variable "dataflow_enabled" {
  type        = bool
  description = "Launch the streaming feature/scoring Dataflow job."
  default     = true
}

variable "dataflow_image" {
  type        = string
  description = "Flex template container image (also the workers' SDK container), pinned by digest."
}

variable "flex_template_metadata_file" {
  type        = string
  description = "Path of the flex template metadata JSON (docker/dataflow/metadata.json)."

  validation {
    condition     = fileexists(var.flex_template_metadata_file)
    error_message = "flex_template_metadata_file must point to an existing JSON file."
  }
}

variable "dataflow_max_workers" {
  type        = number
  description = "Maximum Dataflow workers."
  default     = 3
}

variable "dataflow_machine_type" {
  type        = string
  description = "Dataflow worker machine type."
  default     = "n2-standard-2"
}

variable "dataflow_subnetwork" {
  type        = string
  description = "Optional subnetwork for workers (regions/REGION/subnetworks/NAME); workers get private IPs only, so it needs Private Google Access."
  default     = null
}

variable "serving_model_uri" {
  type        = string
  description = "gs:// directory of the model artifact the pipeline scores with (model.joblib + metadata.json), i.e. a version directory the training pipeline registered; null runs the pipeline without scoring until a model is promoted."
  default     = null

  validation {
    condition     = var.serving_model_uri == null || startswith(coalesce(var.serving_model_uri, "-"), "gs://")
    error_message = "serving_model_uri must be a gs:// directory."
  }
}

variable "artifact_registry_repository" {
  type = object({
    location   = string
    repository = string
  })
  description = "Artifact Registry repository holding the images, so the Dataflow workers can pull the template image."
}

variable "gke_log_filter" {
  type        = string
  description = "Logging filter of the GKE log entries routed to the feature pipeline."
  default     = "resource.type=\"k8s_container\" AND severity>=WARNING"
}

variable "metrics_export_enabled" {
  type        = bool
  description = "Run the GKE metrics exporter (Cloud Run job, every minute) that feeds the metrics topic."
  default     = true
}

variable "metrics_export_cluster" {
  type        = string
  description = "Export only this GKE cluster's metrics; null exports every cluster in the project."
  default     = null
}

variable "training_pipeline_spec_file" {
  type        = string
  description = "Path of the compiled KFP pipeline YAML; null skips the training schedule (e.g. before the first compile)."
  default     = null

  validation {
    condition     = var.training_pipeline_spec_file == null || fileexists(coalesce(var.training_pipeline_spec_file, "-"))
    error_message = "training_pipeline_spec_file must point to an existing compiled pipeline YAML."
  }
}

variable "training_schedule" {
  type        = string
  description = "Cron schedule of the training pipeline (Cloud Scheduler syntax)."
  default     = "0 3 * * *"
}

variable "training_time_zone" {
  type        = string
  description = "Time zone of the training schedule."
  default     = "Etc/UTC"
}

variable "training_parameter_values" {
  type        = map(string)
  description = "Extra runtime parameters of the training pipeline, overriding the defaults: store_uri, model_root and registry_uri from this module's resources, and a rolling window train_start = \"-15d\", train_end = \"-1d\", holdout_end = \"now\" (RFC 3339 instants or times relative to each run: now, -6h, -14d)."
  default     = {}
}

variable "model_registry_name" {
  type        = string
  description = "Display name of the model in the Vertex AI Model Registry."
  default     = "self-healing-anomaly"
}

variable "cmek" {
  type = object({
    bigquery  = optional(string)
    storage   = optional(string)
    pubsub    = optional(string)
    dataflow  = optional(string)
    vertex    = optional(string)
    cloud_run = optional(string)
  })
  description = "Optional Cloud KMS keys (CMEK) per service; unset keeps Google-managed encryption."
  default     = {}
}

variable "deletion_protection" {
  type        = bool
  description = "Protect tables from deletion."
  default     = true
}

variable "labels" {
  type        = map(string)
  description = "Labels set on every resource that takes them."
  default     = {}
}
