#!/bin/sh
# The command of examples/buildkite/pipeline.yml: mint with the agent's OIDC
# token, scan, revoke on exit (also when the scan fails; a job Buildkite
# cancels gets SIGTERM first, which the trap turns into the same exit).
set -eu

: "${K8S_SERVER:?the API server's https:// address}"
: "${K8S_CA_DATA:?the API server's CA, base64 PEM}"
EST_DIR="$(mktemp -d)"
revoke() {
  ephemeral-scan-token revoke --state "$EST_DIR/state.json" \
    --namespace "$SCAN_NAMESPACE" --dir "$EST_DIR" \
    --identity buildkite --oidc-audience ephemeral-scan-token \
    --server "$K8S_SERVER" --certificate-authority-data "$K8S_CA_DATA" ||
    status=$?
  rm -f "$EST_DIR/mint.json"
  rmdir "$EST_DIR"
  return "${status:-0}"
}
trap revoke EXIT
trap 'exit 143' INT TERM

ephemeral-scan-token mint --service-account "$SCANNER" \
  --namespace "$SCAN_NAMESPACE" \
  --identity buildkite --oidc-audience ephemeral-scan-token \
  --server "$K8S_SERVER" --certificate-authority-data "$K8S_CA_DATA" \
  --dir "$EST_DIR" --state "$EST_DIR/state.json" \
  --expect-allowed 'list pods' --expect-denied 'get secrets' \
  >"$EST_DIR/mint.json"
KUBECONFIG="$(node -p "require('$EST_DIR/mint.json').kubeconfig")"
export KUBECONFIG

kubectl get pods -n "$SCAN_NAMESPACE"
