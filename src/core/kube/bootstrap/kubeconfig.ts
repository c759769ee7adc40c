import * as fs from 'node:fs'
import { KubeConfig, type Cluster } from '@kubernetes/client-node'
import { ActionError, InputError } from '../../errors.js'
import { maskSecret } from '../../masking.js'
import { userinfoOf } from '../kubeconfig-references.js'
import type {
  Bootstrap,
  BootstrapKind,
  BootstrapRef,
  BootstrapRequest,
  BootstrapSource,
  BootstrapWording
} from './kind.js'
import { maskBootstrapCredentials, maskOnTheWire } from './masking.js'

// What the three kubeconfig kinds (stored, default, in-cluster) share: the
// checks a loaded kubeconfig must pass, their error wording, and open and
// reopen. Each kind file says only how it finds and reads its kubeconfig.

/** How errors read for a kubeconfig bootstrap: the fix is in the kubeconfig. */
export const KUBECONFIG_WORDING: BootstrapWording = {
  caGoesIn: `kubeconfig's certificate-authority-data`,
  serverSetIn: 'server address in the kubeconfig',
  refusal(refusal) {
    if (refusal.status !== 401) return undefined
    return new ActionError(
      `The API server at ${refusal.server} rejected the bootstrap credential ` +
        `(401 Unauthorized): it is invalid or expired, so refresh the ` +
        `kubeconfig in the 'kubeconfig' input (or KUBECONFIG).`
    )
  }
}

/** Certificate checks stay on for every bootstrap, and so for the new token. */
export function refuseDisabledTlsChecks(
  caGoesIn = 'the kubeconfig',
  env: NodeJS.ProcessEnv = process.env
): void {
  // Node obeys only its own process.env; `env` is what a front door passes
  // for the rest of the checks. Either one turning checks off is refused.
  if (
    process.env.NODE_TLS_REJECT_UNAUTHORIZED === '0' ||
    env.NODE_TLS_REJECT_UNAUTHORIZED === '0'
  ) {
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

/**
 * Check a loaded kubeconfig can be used: the context exists, its cluster
 * and user are defined, no credentials in its URLs, https:// only, TLS
 * verification on, the files it names exist. Throws InputError.
 */
function checkLoaded(
  kc: KubeConfig,
  context: string,
  where: string,
  fixInput: string,
  env: NodeJS.ProcessEnv
): void {
  if (kc.getContexts().length === 0) {
    throw new InputError(
      `${where} contains no contexts: provide a complete kubeconfig in ${fixInput}.`
    )
  }
  if (context !== '') {
    if (!kc.getContextObject(context)) {
      throw new InputError(
        `Input 'context' names a context that ${where} does not have: set ` +
          `'context' to the name of one of its contexts.`
      )
    }
    kc.setCurrentContext(context)
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
  refuseDisabledTlsChecks(undefined, env)
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
}

/** What a kubeconfig kind says about itself; kubeconfigKind does the rest. */
interface KubeconfigKindSpec<S extends BootstrapSource> {
  kind: S['kind']
  find: (request: BootstrapRequest) => S | undefined
  /** Who it is, as sentences name it. */
  describe: (source: S) => string
  /** The input a fix points at: "'kubeconfig'". */
  fixInput: string
  /** Read it into `kc`; may throw InputError, or any error a parse throws. */
  read(
    kc: KubeConfig,
    source: S,
    kubeconfig: string,
    where: string,
    env: NodeJS.ProcessEnv
  ): void
}

export interface KubeconfigKind<
  S extends BootstrapSource = BootstrapSource
> extends BootstrapKind<S> {
  /**
   * Load and check it, with no network call and nothing masked yet; the
   * context in `ref` is made current. Throws InputError.
   */
  load(
    ref: BootstrapRef<S>,
    kubeconfig: string,
    env?: NodeJS.ProcessEnv
  ): KubeConfig
}

/**
 * What main saves about the bootstrap: the context it actually used (a
 * later step may switch the current context) and its server.
 */
export function pinBootstrap(ref: BootstrapRef, kc: KubeConfig): BootstrapRef {
  return {
    ...ref,
    context: kc.getCurrentContext(),
    server: kc.getCurrentCluster()?.server
  }
}

/**
 * Post's check of a reloaded kubeconfig: the record always names the
 * server (see verifyRunState), and post sends the bootstrap credential
 * nowhere else.
 */
export function checkSameServer(ref: BootstrapRef, kc: KubeConfig): void {
  if (!ref.server || kc.getCurrentCluster()?.server !== ref.server) {
    throw new ActionError(
      `the bootstrap kubeconfig no longer points at the API server where the ` +
        `token was minted, so nothing was deleted there: delete the per-run ` +
        `Secret by hand or let the token expire`
    )
  }
}

/** The bootstrap object of a loaded kubeconfig, its secrets masked first. */
export function kubeconfigBootstrap(
  ref: BootstrapRef,
  kc: KubeConfig,
  where: string
): Bootstrap {
  maskBootstrapCredentials(kc)
  maskOnTheWire(kc)
  return { ref, kc, describe: () => where, wording: KUBECONFIG_WORDING }
}

/** A kubeconfig bootstrap kind from how it finds and reads its kubeconfig. */
export function kubeconfigKind<S extends BootstrapSource>(
  spec: KubeconfigKindSpec<S>
): KubeconfigKind<S> {
  const load = (
    ref: BootstrapRef<S>,
    kubeconfig: string,
    env: NodeJS.ProcessEnv = process.env
  ): KubeConfig => {
    const kc = new KubeConfig()
    const where = spec.describe(ref.source)
    try {
      spec.read(kc, ref.source, kubeconfig, where, env)
    } catch (error) {
      if (error instanceof InputError) throw error
      const code = (error as { code?: string }).code
      if (code === 'ENOENT' || code === 'EACCES') {
        throw new InputError(
          `${where} cannot be read (${code}): point ${spec.fixInput} at a readable kubeconfig.`
        )
      }
      throw new InputError(
        `${where} ${parseProblem(error)}: provide a complete kubeconfig in ${spec.fixInput}.`
      )
    }
    checkLoaded(kc, ref.context, where, spec.fixInput, env)
    return kc
  }
  return {
    kind: spec.kind,
    find: spec.find,
    load,
    open(ref, request): Promise<Bootstrap> {
      const kc = load(ref, request.kubeconfig, request.env)
      return Promise.resolve(
        kubeconfigBootstrap(
          pinBootstrap(ref, kc),
          kc,
          spec.describe(ref.source)
        )
      )
    },
    reopen(ref, request): Promise<Bootstrap> {
      const kc = load(ref, request.kubeconfig, request.env)
      checkSameServer(ref, kc)
      return Promise.resolve(
        kubeconfigBootstrap(ref, kc, spec.describe(ref.source))
      )
    }
  }
}
