#!/bin/sh
# ephemeral-scan-token from any shell (Jenkins, a cron job, a laptop): mint
# a short-lived token for the scanner with a bootstrap kubeconfig, run the
# scan with it, and revoke it when the script ends, however it ends. Nothing
# here prints a credential; outside GitHub Actions and Buildkite nothing
# would mask one.
#
#   BOOTSTRAP_KUBECONFIG=~/.kube/minter.yaml SCAN_NAMESPACE=scan-target \
#     SCANNER=inspec-scanner sh examples/shell/scan.sh
set -eu

: "${BOOTSTRAP_KUBECONFIG:?the minting identity's kubeconfig file}"
SCAN_NAMESPACE="${SCAN_NAMESPACE:-scan-target}"
SCANNER="${SCANNER:-inspec-scanner}"

# A private directory outside the working tree for the kubeconfig and the
# state file, so no artifact upload or commit can pick them up.
EST_DIR="$(mktemp -d)"
revoke() {
  ephemeral-scan-token revoke --state "$EST_DIR/state.json" \
    --namespace "$SCAN_NAMESPACE" --dir "$EST_DIR" \
    --kubeconfig "$BOOTSTRAP_KUBECONFIG" || status=$?
  rm -f "$EST_DIR/mint.json"
  rmdir "$EST_DIR"
  return "${status:-0}"
}
trap revoke EXIT
trap 'exit 130' INT TERM

ephemeral-scan-token mint --service-account "$SCANNER" \
  --namespace "$SCAN_NAMESPACE" --kubeconfig "$BOOTSTRAP_KUBECONFIG" \
  --duration 30m --dir "$EST_DIR" --state "$EST_DIR/state.json" \
  --expect-allowed 'list pods' --expect-denied 'get secrets' \
  >"$EST_DIR/mint.json"
KUBECONFIG="$(node -p "require('$EST_DIR/mint.json').kubeconfig")"
export KUBECONFIG

# The scan: replace with yours (cinc-auditor exec ... -t k8s-container://...).
kubectl get pods -n "$SCAN_NAMESPACE"
