// The names this tool gives what it makes, in one leaf so that every layer
// can recognise its own work without importing the code that makes it.

/** The app.kubernetes.io/managed-by label of every per-run Secret. */
export const MANAGED_BY = 'ephemeral-scan-token'

/**
 * The directory names newKubeconfigDir() gives our own kubeconfigs: the
 * action's, and the CLI's with its job scope (`cli`, `cli-gitlab-<id>`, …).
 */
export const OWN_DIR =
  /^ephemeral-scan-token-(?:cli(?:-[0-9a-z-]{1,80})?-)?[0-9a-f]{24}$/
