# State bucket given at init: terraform init -backend-config="bucket=<state-bucket>"
terraform {
  backend "gcs" {
    prefix = "self-healing/dev"
  }
}
