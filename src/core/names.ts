// The names this tool gives what it makes, in one leaf so that every layer
// can recognise its own work without importing the code that makes it.

/** The app.kubernetes.io/managed-by label of every per-run Secret. */
export const MANAGED_BY = 'ephemeral-scan-token'

/** The directory name newKubeconfigDir() gives our own kubeconfigs. */
export const OWN_DIR = /^ephemeral-scan-token-[0-9a-f]{24}$/
