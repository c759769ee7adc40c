import type { Cluster, KubeConfig } from '@kubernetes/client-node'
import { InputError } from '../../errors.js'
import type { CallBounds } from '../deadline.js'
import { defaultFiles } from './default.js'
import { inCluster } from './in-cluster.js'
import type {
  Bootstrap,
  BootstrapKind,
  BootstrapRef,
  BootstrapRequest,
  BootstrapSource
} from './kind.js'
import { checkSameServer, type KubeconfigKind } from './kubeconfig.js'
import { oidc, type OidcInput } from './oidc.js'
import { stored } from './stored.js'

export type { Bootstrap, BootstrapRef, BootstrapSource } from './kind.js'

/**
 * The registry: every bootstrap kind, in the order main asks them which
 * one the request gives (the documented order: the OIDC inputs, the
 * 'kubeconfig' input, KUBECONFIG, ~/.kube/config, the in-cluster
 * ServiceAccount). A new kind is one file in this folder and one entry here.
 */
const KUBECONFIG_KINDS: readonly KubeconfigKind[] = [
  stored,
  defaultFiles,
  inCluster
]
const KINDS: readonly BootstrapKind[] = [oidc, ...KUBECONFIG_KINDS]

function kindOf<K extends BootstrapKind>(
  kinds: readonly K[],
  source: BootstrapSource
): K {
  const kind = kinds.find((k) => k.kind === source.kind)
  if (!kind) throw new Error(`no bootstrap kind '${source.kind}' to load`)
  return kind
}

/** The first kind the request gives, in the registry's order. */
function choose(
  kinds: readonly BootstrapKind[],
  request: BootstrapRequest
): BootstrapSource {
  for (const kind of kinds) {
    const source = kind.find(request)
    if (source) return source
  }
  throw new InputError(
    `No bootstrap credential was found: set the 'kubeconfig' input to a ` +
      `kubeconfig stored as a repository secret, or run this step after one ` +
      `that sets KUBECONFIG.`
  )
}

/**
 * Pick the kubeconfig source in the documented order: the `kubeconfig`
 * input, then KUBECONFIG, then ~/.kube/config, then the in-cluster
 * ServiceAccount.
 */
export function chooseSource(
  kubeconfigInput: string,
  env: NodeJS.ProcessEnv = process.env
): BootstrapSource {
  return choose(KUBECONFIG_KINDS, {
    kubeconfig: kubeconfigInput,
    context: '',
    env
  })
}

/**
 * Load a kubeconfig bootstrap and check it can be used: it parses, the
 * context exists, and TLS verification is on. Throws InputError, never
 * touching the network, masking nothing yet.
 */
export function loadBootstrap(
  ref: BootstrapRef,
  kubeconfigInput: string
): KubeConfig {
  return kindOf(KUBECONFIG_KINDS, ref.source).load(ref, kubeconfigInput)
}

/** Post's view of a kubeconfig bootstrap: the same context, and the same server or nothing. */
export function reloadBootstrap(
  ref: BootstrapRef,
  kubeconfigInput: string
): KubeConfig {
  const kc = loadBootstrap(ref, kubeconfigInput)
  checkSameServer(ref, kc)
  return kc
}

/**
 * Main's bootstrap: the first kind the inputs give, loaded, checked and its
 * secrets masked before anything can print them.
 */
export async function openBootstrap(
  kubeconfigInput: string,
  context: string,
  oidcInput: OidcInput | undefined,
  bounds: CallBounds,
  env: NodeJS.ProcessEnv = process.env
): Promise<Bootstrap> {
  const request: BootstrapRequest = {
    kubeconfig: kubeconfigInput,
    context,
    ...(oidcInput ? { oidc: oidcInput } : {}),
    env
  }
  const source = choose(KINDS, request)
  return kindOf(KINDS, source).open({ source, context }, request, bounds)
}

/**
 * Post's bootstrap: the identity that minted, never the KUBECONFIG main
 * pointed at the token; masked again because this is a new process.
 */
export async function reopenBootstrap(
  ref: BootstrapRef | undefined,
  kubeconfigInput: string,
  caDataInput: () => string,
  bounds: CallBounds,
  env: NodeJS.ProcessEnv = process.env
): Promise<Bootstrap> {
  if (!ref) throw new Error('the main step saved no bootstrap identity')
  return kindOf(KINDS, ref.source).reopen(
    ref,
    { kubeconfig: kubeconfigInput, caData: caDataInput, env },
    bounds
  )
}

/** The cluster fields the minted kubeconfig inherits. */
export function currentCluster(kc: KubeConfig): Cluster {
  const cluster = kc.getCurrentCluster()
  if (!cluster) throw new InputError('The bootstrap kubeconfig has no cluster.')
  return cluster
}
