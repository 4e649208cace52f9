#!/usr/bin/env bash
# Validates every Kubernetes manifest in jobs/ offline against the Kubernetes schemas
# (kubernetes-validate, from PyPI, bundles them), strictly: unknown fields are errors; then the KEDA
# manifests in jobs/keda/, which no Kubernetes schema covers, with scripts/validate-keda.py; the cross-checks between
# the manifests (one image, the config's variables, placement, OPENBLAS_NUM_THREADS, probes, the Prometheus
# operator examples) with scripts/check-manifests.py; and, where kubectl is installed, the kustomization's output
# (kubectl kustomize jobs/: the image and namespace set) against the same schemas.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v kubernetes-validate >/dev/null 2>&1; then
  echo "validate-manifests: installing kubernetes-validate"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore kubernetes-validate 2>/dev/null \
    || python3 -m pip install -q kubernetes-validate
fi
manifests=()
for f in jobs/*.yaml; do [ "$f" = jobs/kustomization.yaml ] || manifests+=("$f"); done
kubernetes-validate --strict --quiet "${manifests[@]}"
echo "validate-manifests: ${#manifests[@]} manifest files valid"
python3 scripts/check-manifests.py
if command -v kubectl >/dev/null 2>&1; then
  built=$(mktemp --suffix=.yaml)
  trap 'rm -f "$built"' EXIT
  kubectl kustomize jobs > "$built"
  kubernetes-validate --strict --quiet "$built"
  echo "validate-manifests: kubectl kustomize jobs/ builds $(grep -c '^kind:' "$built") valid resources"
else
  echo "validate-manifests: kubectl not installed, jobs/kustomization.yaml not built (the other checks ran)"
fi
python3 scripts/validate-keda.py
python3 scripts/grafana_dashboard.py --check
