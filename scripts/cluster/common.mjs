// Paths, constants and small helpers shared by the cluster scripts.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..'
)
export const SRC_DIR = path.join(ROOT, 'test', 'cluster')
export const BIN_DIR = path.join(ROOT, '.cache', 'bin')
export const KAS = path.join(BIN_DIR, 'kas')
export const KUBECTL = path.join(BIN_DIR, 'kubectl')
export const NODE_AGENT = path.join(BIN_DIR, 'node-agent')
export const DIR = process.env.CLUSTER_DIR
  ? path.resolve(process.env.CLUSTER_DIR)
  : path.join(ROOT, '.cluster')

export const F = {
  pid: path.join(DIR, 'pid'),
  port: path.join(DIR, 'port'),
  env: path.join(DIR, 'env'),
  log: path.join(DIR, 'apiserver.log'),
  saKey: path.join(DIR, 'sa.key'),
  tokens: path.join(DIR, 'tokens.csv'),
  pki: path.join(DIR, 'pki'),
  cert: path.join(DIR, 'pki', 'apiserver.crt'),
  etcd: path.join(DIR, 'etcd'),
  kubeconfig: path.join(DIR, 'admin.kubeconfig'),
  kubectl: path.join(DIR, 'kubectl'),
  // The node agent (test/cluster/node): its PKI, pods' working directories,
  // log, pid and port, and the kubeconfig of its system:node identity.
  node: path.join(DIR, 'node'),
  nodePki: path.join(DIR, 'node', 'pki'),
  nodeLog: path.join(DIR, 'node.log'),
  nodePid: path.join(DIR, 'node.pid'),
  nodePort: path.join(DIR, 'node.port'),
  nodeKubeconfig: path.join(DIR, 'node.kubeconfig')
}

/** The test cluster's one Node; pods bound to it (spec.nodeName) run. */
export const NODE_NAME = 'node-1'

// Issuer and API audience of minted ServiceAccount tokens.
export const ISSUER = 'https://kubernetes.default.svc.cluster.local'
export const READY_TIMEOUT_MS = 120_000
export const STOP_TIMEOUT_MS = 20_000

export const log = (msg) => console.log(`cluster: ${msg}`)
export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
export const seconds = (since) => ((Date.now() - since) / 1000).toFixed(1)

export function fail(msg) {
  console.error(`cluster: ${msg}`)
  process.exit(1)
}

export function writePrivate(file, data, mode = 0o600) {
  fs.writeFileSync(file, data, { mode })
  fs.chmodSync(file, mode) // the umask may have stripped bits from `mode`
}

export function shQuote(s) {
  return `'${s.replaceAll("'", `'\\''`)}'`
}

export function envValue(s) {
  return /^[\w@%+=:,./-]*$/.test(s) ? s : shQuote(s)
}
