#!/usr/bin/env bash
# Static security analysis of the Terraform code with checkov.
#
# checkov lives in its own virtual environment (.venv-checkov): its pinned dependencies
# make pip backtrack when mixed with the application's packages, and its bundled HCL
# parser would overwrite the python-hcl2 the tests use. The environment is created on
# first use. The run fails on any failed check; every accepted skip is written inline
# next to the resource it concerns, with its reason.
#
# Usage: scripts/checkov.sh [extra checkov arguments]
# Environment: PYTHON (interpreter used to create the env, default python3),
#              CHECKOV_VENV (default <repo>/.venv-checkov).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${CHECKOV_VENV:-${repo_root}/.venv-checkov}"
python="${PYTHON:-python3}"

if [[ ! -x "${venv}/bin/checkov" ]]; then
  echo "checkov.sh: creating ${venv##*/} (checkov in its own environment)" >&2
  "${python}" -m venv "${venv}"
  "${venv}/bin/pip" install --quiet --upgrade pip
  "${venv}/bin/pip" install --quiet "checkov>=3.2,<4"
fi

cd "${repo_root}"
# --download-external-modules false and BC_SKIP_MAPPING keep the run offline-friendly;
# the platform-policy download is attempted anyway and only logs a warning when offline.
export BC_SKIP_MAPPING=TRUE
export CHECKOV_RUN_SCA_PACKAGE_SCAN_V2=false
exec "${venv}/bin/checkov" \
  --directory terraform \
  --framework terraform \
  --config-file .checkov.yaml \
  --quiet \
  --compact \
  --download-external-modules false \
  "$@"
