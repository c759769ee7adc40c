import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { KubeConfig, type Cluster } from '@kubernetes/client-node'
import * as yaml from 'js-yaml'
import { ActionError } from '../errors.js'
import { OWN_DIR } from '../names.js'

export const ENTRY_NAME = 'ephemeral-scan-token'
export const FILE_NAME = 'kubeconfig'

/** The runner's per-job temp directory; we never fall back to a shared one. */
export function requireRunnerTemp(
  env: NodeJS.ProcessEnv = process.env
): string {
  const temp = env.RUNNER_TEMP ?? ''
  if (temp === '' || !path.isAbsolute(temp) || !fs.existsSync(temp)) {
    throw new ActionError(
      `RUNNER_TEMP is ${temp === '' ? 'not set' : `'${temp}', which is not an existing absolute directory`}: ` +
        `this action writes the kubeconfig only into the runner's per-job ` +
        `temporary directory, so run it as a GitHub Actions step (or set ` +
        `RUNNER_TEMP to a private directory when testing locally).`
    )
  }
  return temp
}

/**
 * A fresh directory name that no other process can predict. `scope` (the
 * CLI's job scope, as in its Secret names) goes into the name, so that a
 * record can only name a directory of the same job: the CLI's --dir may be
 * shared (/tmp), the action's RUNNER_TEMP is per job and has no scope.
 */
export function newKubeconfigDir(runnerTemp: string, scope?: string): string {
  return path.join(
    runnerTemp,
    `ephemeral-scan-token-${scope ? `${scope}-` : ''}${randomBytes(12).toString('hex')}`
  )
}

/**
 * True when `dir` is a path newKubeconfigDir() gives under `runnerTemp`
 * for `scope`: directly inside it, with the action's own name (and the
 * same scope, or none for the action). Only such a path is ever removed,
 * so a planted record cannot point post at the workspace, nor the CLI at
 * another job's directory.
 */
export function isOwnKubeconfigDir(
  dir: string,
  runnerTemp: string,
  scope?: string
): boolean {
  const name = path.basename(dir)
  const prefix = `ephemeral-scan-token-${scope ? `${scope}-` : ''}`
  return (
    path.isAbsolute(runnerTemp) &&
    path.dirname(dir) === runnerTemp &&
    OWN_DIR.test(name) &&
    name.startsWith(prefix) &&
    /^[0-9a-f]{24}$/.test(name.slice(prefix.length))
  )
}

/** The certificate authority as base64 PEM, whether the bootstrap had data or a file. */
export function caData(cluster: Cluster): string | undefined {
  if (cluster.caData) return cluster.caData
  if (cluster.caFile) {
    return fs.readFileSync(cluster.caFile).toString('base64')
  }
  return undefined
}

/**
 * The kubeconfig as data. It keeps TLS verification on and carries the CA,
 * so later steps trust exactly what the bootstrap trusted.
 */
export function buildKubeconfig(
  cluster: Cluster,
  token: string,
  namespace: string
): Record<string, unknown> {
  return buildKubeconfigFor(cluster, { token }, namespace)
}

/** The same, with any user entry: a static token, or renewal's exec credential. */
export function buildKubeconfigFor(
  cluster: Cluster,
  user: Record<string, unknown>,
  namespace: string
): Record<string, unknown> {
  const clusterEntry: Record<string, string> = { server: cluster.server }
  const ca = caData(cluster)
  if (ca) clusterEntry['certificate-authority-data'] = ca
  if (cluster.tlsServerName)
    clusterEntry['tls-server-name'] = cluster.tlsServerName
  if (cluster.proxyUrl) clusterEntry['proxy-url'] = cluster.proxyUrl
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: ENTRY_NAME, cluster: clusterEntry }],
    users: [{ name: ENTRY_NAME, user }],
    contexts: [
      {
        name: ENTRY_NAME,
        context: { cluster: ENTRY_NAME, user: ENTRY_NAME, namespace }
      }
    ],
    'current-context': ENTRY_NAME,
    preferences: {}
  }
}

/** Serialise as YAML: never string-templated, so no value can inject structure. */
export function serialiseKubeconfig(config: Record<string, unknown>): string {
  return yaml.dump(config, { noRefs: true, lineWidth: -1 })
}

/**
 * Create `dir` (0700, must not exist) and the kubeconfig inside it,
 * exclusively and 0600 from the first byte. Returns the file path.
 */
export function writeKubeconfig(dir: string, content: string): string {
  try {
    fs.mkdirSync(dir, { mode: 0o700 })
    // mkdir's mode is filtered by the umask; make it exact.
    fs.chmodSync(dir, 0o700)
    const file = path.join(dir, FILE_NAME)
    const fd = fs.openSync(file, 'wx', 0o600)
    try {
      fs.fchmodSync(fd, 0o600)
      fs.writeFileSync(fd, content)
    } finally {
      fs.closeSync(fd)
    }
    return file
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'unknown error'
    throw new ActionError(
      `Could not write the kubeconfig under RUNNER_TEMP (${code}): check that ` +
        `the runner's temporary directory is writable.`
    )
  }
}

/**
 * Remove the directory and everything in it: 'removed', 'gone' when it was
 * already gone, or 'replaced' when a link or a file stands in its place (a
 * later step put it there): that is left alone, since following a link
 * would delete what it points at. rmSync follows no link inside the tree,
 * nor one swapped in after the lstat.
 */
export function removeKubeconfigDir(
  dir: string
): 'removed' | 'gone' | 'replaced' {
  let stat: fs.Stats
  try {
    stat = fs.lstatSync(dir)
  } catch {
    return 'gone'
  }
  if (!stat.isDirectory()) return 'replaced'
  fs.rmSync(dir, { recursive: true, force: true })
  return 'removed'
}

/** A client configuration for the minted token, from the same data the file gets. */
export function toKubeConfig(content: string): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromString(content)
  return kc
}
