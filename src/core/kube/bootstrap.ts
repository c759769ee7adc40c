import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { KubeConfig, type Cluster, type User } from '@kubernetes/client-node'
import * as yaml from 'js-yaml'
import { ActionError, InputError } from '../errors.js'
import { maskSecret } from '../masking.js'
import { OWN_DIR } from '../names.js'
import { checkReferences, record, userinfoOf } from './kubeconfig-references.js'
import type { CallBounds } from './deadline.js'
import type { OidcIdentity } from './api-errors.js'
import { openOidc, type OidcInput } from './oidc-bootstrap.js'

/**
 * Where the identity that mints the token comes from. Saved in state so the
 * post step authenticates the same way, and never through the KUBECONFIG that
 * main pointed at the minted token.
 */
export type BootstrapSource =
  | { kind: 'input' }
  | { kind: 'files'; paths: string[] }
  | { kind: 'in-cluster' }
  /** The job's GitHub ID token; post fetches a fresh one, no token is saved. */
  | { kind: 'oidc'; audience: string }

export interface BootstrapRef {
  source: BootstrapSource
  /** Context to use; '' means the kubeconfig's current context. */
  context: string
  /** The API server main used; post refuses to clean up anywhere else. */
  server?: string
}

const IN_CLUSTER_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token'

/**
 * Pick the bootstrap source in the documented order: the `kubeconfig` input,
 * then KUBECONFIG, then ~/.kube/config, then the in-cluster ServiceAccount.
 */
export function chooseSource(
  kubeconfigInput: string,
  env: NodeJS.ProcessEnv = process.env
): BootstrapSource {
  if (kubeconfigInput.trim() !== '') return { kind: 'input' }
  const listed = (env.KUBECONFIG ?? '')
    .split(path.delimiter)
    .filter((p) => p !== '')
  if (listed.some((p) => OWN_DIR.test(path.basename(path.dirname(p))))) {
    throw new InputError(
      `KUBECONFIG points at a kubeconfig an earlier use of this action wrote, ` +
        `whose scanner token cannot mint: pass the bootstrap kubeconfig in the ` +
        `'kubeconfig' input.`
    )
  }
  if (listed.length > 0) return { kind: 'files', paths: listed }
  const home = path.join(env.HOME ?? os.homedir(), '.kube', 'config')
  if (fs.existsSync(home)) return { kind: 'files', paths: [home] }
  if (env.KUBERNETES_SERVICE_HOST && fs.existsSync(IN_CLUSTER_TOKEN)) {
    return { kind: 'in-cluster' }
  }
  throw new InputError(
    `No bootstrap credential was found: set the 'kubeconfig' input to a ` +
      `kubeconfig stored as a repository secret, or run this step after one ` +
      `that sets KUBECONFIG.`
  )
}

function describeSource(source: BootstrapSource): string {
  switch (source.kind) {
    case 'input':
      return `the 'kubeconfig' input`
    case 'files':
      return `the kubeconfig file ${source.paths.join(path.delimiter)}`
    case 'in-cluster':
      return `the in-cluster ServiceAccount`
    case 'oidc':
      return `the job's GitHub ID token`
  }
}

/** Certificate checks stay on for every bootstrap, and so for the new token. */
function refuseDisabledTlsChecks(caGoesIn = 'the kubeconfig'): void {
  if (process.env.NODE_TLS_REJECT_UNAUTHORIZED === '0') {
    throw new InputError(
      `NODE_TLS_REJECT_UNAUTHORIZED=0 is set for this step, which would turn ` +
        `off certificate checks for the bootstrap credential and the new token: ` +
        `remove it and put the cluster's CA in ${caGoesIn} instead.`
    )
  }
}

/**
 * Credentials go only over TLS: the bootstrap's (a token, a client key)
 * with every call, and the minted token, which comes back in the answer and
 * goes into the scanner's kubeconfig with the same server. client-node
 * refuses http:// only where it picks an agent, which a proxy-url skips, and
 * only once the request is made. Checked for every kubeconfig source, in
 * main and in post, before any call. The message names the scheme only: the
 * rest of the URL may carry a secret (a token in a query string).
 */
function refuseCleartext(cluster: Cluster, where: string): void {
  // Literally 'https://', as post's record check and the client want it:
  // the URL parser would also pass 'HTTPS://' and a value with spaces.
  if (cluster.server.startsWith('https://')) return
  let scheme: string
  try {
    scheme = new URL(cluster.server).protocol
  } catch {
    scheme = 'none'
  }
  const named =
    scheme === 'https:'
      ? "it does not start with exactly 'https://'"
      : /^[a-z][a-z0-9+.-]*:$/.test(scheme)
        ? `its scheme is '${scheme.slice(0, -1)}'`
        : 'it is not a URL'
  throw new InputError(
    `The server of the cluster in use in ${where} is not an https:// URL ` +
      `(${named}), and this action sends credentials only over TLS: set ` +
      `the cluster's server to the API server's https:// address.`
  )
}

/** Parse problems, described without echoing kubeconfig content (it holds credentials). */
function parseProblem(error: unknown): string {
  const mark = (error as { mark?: { line?: number } } | null)?.mark
  if (mark && typeof mark.line === 'number') {
    return `is not valid YAML (line ${mark.line + 1})`
  }
  const message = error instanceof Error ? error.message : ''
  // client-node's structural complaints ("clusters[0].name is missing") are safe to repeat.
  if (/^[\w[\].-]+ is missing$/.test(message))
    return `is incomplete: ${message}`
  return 'could not be read as a kubeconfig'
}

function loadFiles(kc: KubeConfig, paths: string[]): void {
  const [first, ...rest] = paths
  if (first === undefined) return
  kc.loadFromFile(first)
  for (const file of rest) {
    const extra = new KubeConfig()
    extra.loadFromFile(file)
    kc.mergeConfig(extra, true)
  }
}

/**
 * Load the bootstrap identity and check it can be used: it parses, the
 * context exists, and TLS verification is on. Throws InputError, never
 * touching the network.
 */
export function loadBootstrap(
  ref: BootstrapRef,
  kubeconfigInput: string
): KubeConfig {
  if (ref.source.kind === 'oidc') {
    throw new Error('the OIDC bootstrap has no kubeconfig to load')
  }
  const kc = new KubeConfig()
  const where = describeSource(ref.source)
  const fixInput =
    ref.source.kind === 'input'
      ? `'kubeconfig'`
      : `'kubeconfig' (or KUBECONFIG)`
  try {
    const workspace = process.env.GITHUB_WORKSPACE || undefined
    switch (ref.source.kind) {
      case 'input':
        checkReferences(yaml.load(kubeconfigInput), 'input', where, workspace)
        kc.loadFromString(kubeconfigInput)
        break
      case 'files':
        for (const file of ref.source.paths) {
          const raw = yaml.load(fs.readFileSync(file, 'utf8'))
          checkReferences(
            raw,
            'files',
            `the kubeconfig file ${file}`,
            workspace
          )
        }
        loadFiles(kc, ref.source.paths)
        break
      case 'in-cluster':
        kc.loadFromCluster()
        break
    }
  } catch (error) {
    if (error instanceof InputError) throw error
    const code = (error as { code?: string }).code
    if (code === 'ENOENT' || code === 'EACCES') {
      throw new InputError(
        `${where} cannot be read (${code}): point ${fixInput} at a readable kubeconfig.`
      )
    }
    throw new InputError(
      `${where} ${parseProblem(error)}: provide a complete kubeconfig in ${fixInput}.`
    )
  }
  if (kc.getContexts().length === 0) {
    throw new InputError(
      `${where} contains no contexts: provide a complete kubeconfig in ${fixInput}.`
    )
  }
  if (ref.context !== '') {
    if (!kc.getContextObject(ref.context)) {
      throw new InputError(
        `Input 'context' names a context that ${where} does not have: set ` +
          `'context' to the name of one of its contexts.`
      )
    }
    kc.setCurrentContext(ref.context)
  } else if (!kc.getContextObject(kc.getCurrentContext())) {
    throw new InputError(
      `${where} has no current-context: set the 'context' input to the context to use.`
    )
  }
  const cluster = kc.getCurrentCluster()
  if (!cluster) {
    throw new InputError(
      `The context in use in ${where} names a cluster that is not defined: ` +
        `fix the kubeconfig in ${fixInput}.`
    )
  }
  for (const [field, url] of [
    ['proxy-url', cluster.proxyUrl],
    ['server', cluster.server]
  ] as const) {
    const userinfo = url ? userinfoOf(url) : undefined
    if (!userinfo) continue
    // A token is often the user part (https://TOKEN@proxy): mask both.
    maskSecret(userinfo.user)
    maskSecret(userinfo.password)
    throw new InputError(
      `The cluster of the context in use in ${where} has a user name or ` +
        `password in its ${field}, which this action would have to copy into ` +
        `the scanner's kubeconfig: use a ${field} without credentials in it.`
    )
  }
  refuseCleartext(cluster, where)
  if (cluster.skipTLSVerify) {
    throw new InputError(
      `The cluster of the context in use in ${where} sets insecure-skip-tls-verify, ` +
        `and this action keeps TLS verification on: add the cluster's ` +
        `certificate-authority-data to the kubeconfig instead.`
    )
  }
  refuseDisabledTlsChecks()
  for (const [field, file] of [
    ['certificate-authority', cluster.caFile],
    ['client-certificate', kc.getCurrentUser()?.certFile],
    ['client-key', kc.getCurrentUser()?.keyFile]
  ] as const) {
    if (file && !fs.existsSync(file)) {
      throw new InputError(
        `The ${field} file named in ${where} does not exist: fix the ` +
          `path or embed the data (${field}-data) in the kubeconfig in ${fixInput}.`
      )
    }
  }
  if (!kc.getCurrentUser()) {
    throw new InputError(
      `The context in use in ${where} names a user that is not defined: fix ` +
        `the kubeconfig in ${fixInput}.`
    )
  }
  return kc
}

/**
 * What post saves about the bootstrap: the context main actually used (a
 * later step may switch the current context) and its server.
 */
export function pinBootstrap(ref: BootstrapRef, kc: KubeConfig): BootstrapRef {
  return {
    ...ref,
    context: kc.getCurrentContext(),
    server: kc.getCurrentCluster()?.server
  }
}

/** Post's view of the bootstrap: the same context, and the same server or nothing. */
export function reloadBootstrap(
  ref: BootstrapRef,
  kubeconfigInput: string
): KubeConfig {
  const kc = loadBootstrap(ref, kubeconfigInput)
  // The record always names the server (see verifyRunState): post sends
  // the bootstrap credential nowhere else.
  if (!ref.server || kc.getCurrentCluster()?.server !== ref.server) {
    throw new ActionError(
      `the bootstrap kubeconfig no longer points at the API server where the ` +
        `token was minted, so nothing was deleted there: delete the per-run ` +
        `Secret by hand or let the token expire`
    )
  }
  return kc
}

/** File content, or nothing when it cannot be read (loading reports that). */
function readQuietly(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

/** The credentials a user entry holds in the config itself (auth providers refresh them there). */
function maskUserFields(user: User): void {
  maskSecret(user.token)
  maskSecret(user.password)
  if (user.username && user.password) {
    // The Basic header client-node builds from them.
    maskSecret(
      Buffer.from(`${user.username}:${user.password}`).toString('base64')
    )
  }
  maskSecret(user.keyData)
  if (typeof user.keyData === 'string') {
    const pem = Buffer.from(user.keyData, 'base64').toString('utf8')
    if (pem.includes('-----BEGIN')) maskSecret(pem)
  }
  // Legacy auth-provider entries (oidc, gcp, azure) keep tokens in config.
  const config = record(record(user.authProvider).config)
  for (const key of [
    'access-token',
    'id-token',
    'refresh-token',
    'client-secret'
  ]) {
    maskSecret(config[key])
  }
}

/**
 * Mask the bootstrap credential's secret parts before anything can print
 * them: what the config holds, and the key and token files it names (the
 * in-cluster ServiceAccount token is such a file).
 */
export function maskBootstrapCredentials(kc: KubeConfig): void {
  const user = kc.getCurrentUser()
  if (!user) return
  maskUserFields(user)
  if (user.keyFile) maskSecret(readQuietly(user.keyFile))
  const tokenFile = record(record(user.authProvider).config).tokenFile
  if (typeof tokenFile === 'string') maskSecret(readQuietly(tokenFile))
}

type RequestOptions = {
  headers?: Record<string, unknown>
  key?: unknown
  passphrase?: unknown
}

/** The credential in an Authorization header value, without its scheme. */
function credentialOf(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined
  // A token file's trailing newline can still be in the header value.
  const value = header.trim()
  const match = /^[A-Za-z][\w-]*\s+([\s\S]+)$/.exec(value)
  return match?.[1] ?? value
}

/**
 * Mask the credential that actually goes on the wire, whatever produced it:
 * a static token, a token file, an exec plugin (EKS, GKE, kubelogin), an
 * auth provider's refresh or the in-cluster token. client-node funnels the
 * authentication of every request (fetch and WebSocket alike) through the
 * KubeConfig's applyOptions, so the value is registered there, before the
 * request is sent. That method is private in client-node's typings: if a
 * client-node release renames it, this throws (and the unit tests fail)
 * rather than silently leaving the credential unmasked.
 */
export function maskOnTheWire(kc: KubeConfig): void {
  const hooks = kc as unknown as {
    applyOptions?: (opts: RequestOptions) => Promise<void>
  }
  const apply = hooks.applyOptions
  if (typeof apply !== 'function') {
    throw new Error(
      '@kubernetes/client-node no longer has KubeConfig.applyOptions, where the bootstrap credential is masked'
    )
  }
  hooks.applyOptions = async (opts: RequestOptions): Promise<void> => {
    await apply.call(kc, opts)
    for (const [name, value] of Object.entries(opts.headers ?? {})) {
      if (name.toLowerCase() === 'authorization') {
        maskSecret(credentialOf(value))
      }
    }
    const keys: unknown[] = Array.isArray(opts.key) ? opts.key : [opts.key]
    for (const key of keys) {
      maskSecret(Buffer.isBuffer(key) ? key.toString('utf8') : key)
    }
    maskSecret(opts.passphrase)
    const user = kc.getCurrentUser()
    if (user) maskUserFields(user)
  }
}

/** The cluster fields the minted kubeconfig inherits. */
export function currentCluster(kc: KubeConfig): Cluster {
  const cluster = kc.getCurrentCluster()
  if (!cluster) throw new InputError('The bootstrap kubeconfig has no cluster.')
  return cluster
}

/** The identity that mints, ready to connect; `oidc` is set for the ID-token bootstrap. */
export interface Bootstrap {
  ref: BootstrapRef
  kc: KubeConfig
  oidc?: OidcIdentity
}

/**
 * Main's bootstrap: the job's GitHub ID token when the OIDC inputs are
 * given; otherwise choose the kubeconfig source, load and check it. Either
 * way its secrets are masked before anything can print them.
 */
export async function openBootstrap(
  kubeconfigInput: string,
  context: string,
  oidcInput: OidcInput | undefined,
  bounds: CallBounds
): Promise<Bootstrap> {
  if (oidcInput) {
    refuseDisabledTlsChecks(`'certificate-authority-data'`)
    const { audience, server, caData } = oidcInput
    const opened = await openOidc(audience, { server, caData }, bounds)
    return {
      ref: { source: { kind: 'oidc', audience }, context: '', server },
      ...opened
    }
  }
  const ref: BootstrapRef = { source: chooseSource(kubeconfigInput), context }
  const kc = loadBootstrap(ref, kubeconfigInput)
  maskBootstrapCredentials(kc)
  maskOnTheWire(kc)
  return { ref: pinBootstrap(ref, kc), kc }
}

/**
 * Post's bootstrap: the identity that minted, never the KUBECONFIG main
 * pointed at the token; masked again because this is a new process. For the
 * OIDC bootstrap that is a fresh ID token for the saved audience and server
 * (post gets the same inputs, so the CA data is read from them again).
 */
export async function reopenBootstrap(
  ref: BootstrapRef | undefined,
  kubeconfigInput: string,
  caDataInput: () => string,
  bounds: CallBounds
): Promise<Bootstrap> {
  if (!ref) throw new Error('the main step saved no bootstrap identity')
  if (ref.source.kind === 'oidc') {
    refuseDisabledTlsChecks(`'certificate-authority-data'`)
    if (!ref.server) throw new Error('the main step saved no server')
    const opened = await openOidc(
      ref.source.audience,
      { server: ref.server, caData: caDataInput() },
      bounds
    )
    return { ref, ...opened }
  }
  const kc = reloadBootstrap(ref, kubeconfigInput)
  maskBootstrapCredentials(kc)
  maskOnTheWire(kc)
  return { ref, kc }
}
