# A generic Cloud Run v2 service: image, runtime identity, env and Secret Manager
# references, ingress, scaling, who may invoke it, and optionally the Managed Service for
# Prometheus sidecar that scrapes the service's /metrics into Cloud Monitoring.

locals {
  app_container_name     = "app"
  sidecar_container_name = "collector"
  # The sidecar reads a RunMonitoring config from /etc/rungmp/config.yaml when one is mounted;
  # without it, it scrapes the default endpoint, port 8080 path /metrics.
  sidecar_config_volume = "rungmp-config"
  sidecar_config_dir    = "/etc/rungmp"
  sidecar_config_secret = var.prometheus_sidecar.enabled ? var.prometheus_sidecar.config_secret : null
}

resource "google_cloud_run_v2_service" "this" {
  project             = var.project_id
  name                = var.name
  location            = var.region
  description         = var.description
  ingress             = var.ingress
  deletion_protection = var.deletion_protection
  labels              = var.labels

  template {
    service_account                  = var.service_account_email
    timeout                          = "${var.request_timeout_seconds}s"
    max_instance_request_concurrency = var.concurrency
    execution_environment            = "EXECUTION_ENVIRONMENT_GEN2"
    encryption_key                   = var.encryption_key
    labels                           = var.labels

    scaling {
      min_instance_count = var.min_instances
      max_instance_count = var.max_instances
    }

    dynamic "vpc_access" {
      for_each = var.vpc_access == null ? [] : [var.vpc_access]
      content {
        egress = vpc_access.value.egress
        network_interfaces {
          network    = vpc_access.value.network
          subnetwork = vpc_access.value.subnetwork
        }
      }
    }

    containers {
      name  = local.app_container_name
      image = var.image

      ports {
        container_port = var.container_port
      }

      resources {
        limits = {
          cpu    = var.cpu
          memory = var.memory
        }
        cpu_idle          = true
        startup_cpu_boost = true
      }

      dynamic "env" {
        for_each = var.env
        content {
          name  = env.key
          value = env.value
        }
      }

      dynamic "env" {
        for_each = var.secret_env
        content {
          name = env.key
          value_source {
            secret_key_ref {
              secret  = env.value.secret
              version = env.value.version
            }
          }
        }
      }

      dynamic "startup_probe" {
        for_each = var.health_check_path == null ? [] : [var.health_check_path]
        content {
          period_seconds    = 5
          failure_threshold = 12
          http_get {
            path = startup_probe.value
          }
        }
      }

      dynamic "liveness_probe" {
        for_each = var.health_check_path == null ? [] : [var.health_check_path]
        content {
          period_seconds = 30
          http_get {
            path = liveness_probe.value
          }
        }
      }
    }

    # Managed Service for Prometheus sidecar: starts after the app container (whose startup
    # probe gates it), scrapes its Prometheus endpoint and writes the series to Cloud Monitoring
    # as prometheus.googleapis.com/<metric>/<kind> on the prometheus_target resource. The
    # runtime service account needs roles/monitoring.metricWriter.
    dynamic "containers" {
      for_each = var.prometheus_sidecar.enabled ? [var.prometheus_sidecar] : []
      content {
        name       = local.sidecar_container_name
        image      = containers.value.image
        depends_on = [local.app_container_name]

        resources {
          limits = {
            cpu    = containers.value.cpu
            memory = containers.value.memory
          }
          cpu_idle = true
        }

        dynamic "volume_mounts" {
          for_each = local.sidecar_config_secret == null ? [] : [local.sidecar_config_volume]
          content {
            name       = volume_mounts.value
            mount_path = local.sidecar_config_dir
          }
        }
      }
    }

    # Optional custom RunMonitoring config, read from Secret Manager as config.yaml.
    dynamic "volumes" {
      for_each = local.sidecar_config_secret == null ? [] : [local.sidecar_config_secret]
      content {
        name = local.sidecar_config_volume
        secret {
          secret = volumes.value
          items {
            version = "latest"
            path    = "config.yaml"
          }
        }
      }
    }
  }

  traffic {
    type    = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
    percent = 100
  }
}

resource "google_cloud_run_v2_service_iam_member" "invokers" {
  for_each = var.invoker_members

  project  = var.project_id
  location = google_cloud_run_v2_service.this.location
  name     = google_cloud_run_v2_service.this.name
  role     = "roles/run.invoker"
  member   = each.value
}

# The only way this module makes a service public; see allow_unauthenticated.
resource "google_cloud_run_v2_service_iam_member" "public" {
  count = var.allow_unauthenticated ? 1 : 0

  project  = var.project_id
  location = google_cloud_run_v2_service.this.location
  name     = google_cloud_run_v2_service.this.name
  role     = "roles/run.invoker"
  member   = "allUsers"
}
