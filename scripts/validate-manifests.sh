#!/usr/bin/env bash
# Validates every Kubernetes manifest in jobs/ offline against the Kubernetes schemas
# (kubernetes-validate, from PyPI, bundles them), strictly: unknown fields are errors; then the KEDA
# manifests in jobs/keda/, which no Kubernetes schema covers, with scripts/validate-keda.py.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v kubernetes-validate >/dev/null 2>&1; then
  echo "validate-manifests: installing kubernetes-validate"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore kubernetes-validate 2>/dev/null \
    || python3 -m pip install -q kubernetes-validate
fi
kubernetes-validate --strict --quiet jobs/*.yaml
echo "validate-manifests: $(ls jobs/*.yaml | wc -l) manifest files valid"
python3 scripts/validate-keda.py
python3 scripts/grafana_dashboard.py --check
