# GKE access for the healer: a custom IAM role with the minimal permissions, plus the
# Kubernetes RBAC for its Google identity. GKE authorizes a request if RBAC or IAM allows it.

locals {
  # Getting credentials (endpoint and CA) for the cluster.
  credential_permissions = ["container.clusters.get"]

  # What the healer does: read/patch Deployments (restart, roll back, scale, raise a
  # memory limit), read ReplicaSets (rollback history), list/delete Pods, read logs.
  workload_permissions = [
    "container.deployments.get",
    "container.deployments.list",
    "container.deployments.update",
    "container.deployments.getScale",
    "container.deployments.updateScale",
    "container.replicaSets.get",
    "container.replicaSets.list",
    "container.pods.get",
    "container.pods.list",
    "container.pods.delete",
    "container.pods.getLogs",
  ]

  permissions = var.authorization == "iam" ? concat(local.credential_permissions, local.workload_permissions) : local.credential_permissions

  rbac_rules = [
    { api_groups = ["apps"], resources = ["deployments"], verbs = ["get", "list", "patch"] },
    { api_groups = ["apps"], resources = ["deployments/scale"], verbs = ["get", "patch"] },
    { api_groups = ["apps"], resources = ["replicasets"], verbs = ["get", "list"] },
    { api_groups = [""], resources = ["pods"], verbs = ["get", "list", "delete"] },
    { api_groups = [""], resources = ["pods/log"], verbs = ["get"] },
  ]

  rbac_namespaces = var.authorization == "rbac" ? toset(var.namespaces) : toset([])
  cluster_wide    = var.authorization == "rbac" && length(var.namespaces) == 0
}

resource "google_project_iam_custom_role" "healer" {
  project     = var.project_id
  role_id     = var.role_id
  title       = "Self-healing GKE operator"
  description = "Get GKE credentials${var.authorization == "iam" ? "; get/patch Deployments, list/delete Pods" : "; workload permissions come from Kubernetes RBAC"}."
  stage       = "GA"
  permissions = local.permissions
}

resource "google_project_iam_member" "healer" {
  project = var.project_id
  role    = google_project_iam_custom_role.healer.id
  member  = "serviceAccount:${var.healer_service_account_email}"
}

resource "kubernetes_role_v1" "healer" {
  for_each = local.rbac_namespaces

  metadata {
    name      = var.rbac_name
    namespace = each.key
    labels    = { "app.kubernetes.io/managed-by" = "terraform" }
  }

  dynamic "rule" {
    for_each = local.rbac_rules
    content {
      api_groups = rule.value.api_groups
      resources  = rule.value.resources
      verbs      = rule.value.verbs
    }
  }
}

resource "kubernetes_role_binding_v1" "healer" {
  for_each = local.rbac_namespaces

  metadata {
    name      = var.rbac_name
    namespace = each.key
    labels    = { "app.kubernetes.io/managed-by" = "terraform" }
  }

  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "Role"
    name      = kubernetes_role_v1.healer[each.key].metadata[0].name
  }

  # GKE maps a Google service account to a Kubernetes User named by its email.
  subject {
    kind      = "User"
    name      = var.healer_service_account_email
    api_group = "rbac.authorization.k8s.io"
  }
}

resource "kubernetes_cluster_role_v1" "healer" {
  count = local.cluster_wide ? 1 : 0

  metadata {
    name   = var.rbac_name
    labels = { "app.kubernetes.io/managed-by" = "terraform" }
  }

  dynamic "rule" {
    for_each = local.rbac_rules
    content {
      api_groups = rule.value.api_groups
      resources  = rule.value.resources
      verbs      = rule.value.verbs
    }
  }
}

resource "kubernetes_cluster_role_binding_v1" "healer" {
  count = local.cluster_wide ? 1 : 0

  metadata {
    name   = var.rbac_name
    labels = { "app.kubernetes.io/managed-by" = "terraform" }
  }

  role_ref {
    api_group = "rbac.authorization.k8s.io"
    kind      = "ClusterRole"
    name      = kubernetes_cluster_role_v1.healer[0].metadata[0].name
  }

  subject {
    kind      = "User"
    name      = var.healer_service_account_email
    api_group = "rbac.authorization.k8s.io"
  }
}
