// What `renew-every` adds to the action's main step: the plan (window and
// each token's lifetime), the exec user that runs dist/credential.js, and
// the files the helper reads beside the kubeconfig. The helper itself is
// CI-agnostic (src/core/renewal/, front door src/credential/).
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ActionError, InputError } from '../core/errors.js'
import type {
  BootstrapSource,
  currentCluster
} from '../core/kube/bootstrap/index.js'
import {
  planWindow,
  renewingKubeconfig as coreRenewingKubeconfig,
  writeRenewalBeside,
  type RenewalPlan
} from '../core/renewal-plan.js'
import type { RenewalBootstrap } from '../core/renewal/state.js'
import type { Lifetime } from '../core/token/lifetime.js'
import type { MintedToken } from '../core/token/token-request.js'
import { RENEW_NEEDS_REUSABLE_BOOTSTRAP, type Inputs } from './inputs.js'

type Cluster = ReturnType<typeof currentCluster>

/**
 * How a renewal in a later step authenticates: the same bootstrap, when it
 * needs no stored credential. A kubeconfig file found on the runner
 * (KUBECONFIG, ~/.kube/config) is refused like the 'kubeconfig' input.
 */
export function renewalBootstrap(source: BootstrapSource): RenewalBootstrap {
  if (source.kind === 'oidc') return { kind: 'oidc', audience: source.audience }
  if (source.kind === 'in-cluster') return { kind: 'in-cluster' }
  throw new InputError(RENEW_NEEDS_REUSABLE_BOOTSTRAP)
}

/**
 * dist/credential.js beside the running bundle: the helper the renewing
 * kubeconfig runs, by its absolute path (and Node's, process.execPath).
 */
function credentialHelper(): string {
  const file = path.join(
    path.dirname(fileURLToPath(import.meta.url)),
    'credential.js'
  )
  if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) {
    throw new ActionError(
      `The action's credential helper (dist/credential.js) is missing, so ` +
        `'renew-every' cannot work: use a released version of the action, ` +
        `or remove 'renew-every'.`
    )
  }
  return file
}

/** Write the renewal files beside the kubeconfig, in the action's words. */
export function writeRenewal(
  dir: string,
  inputs: Inputs,
  renewal: RenewalPlan,
  cluster: Cluster,
  minted: MintedToken
): void {
  writeRenewalBeside(dir, inputs, renewal, cluster, minted, {
    renewEvery: `'renew-every'`,
    dirFrom: `the runner's temporary directory`
  })
}

/** The window and each token's lifetime, when `renew-every` is set. */
export function planRenewal(
  inputs: Inputs,
  lifetime: Lifetime,
  source: BootstrapSource,
  now: number
): RenewalPlan | undefined {
  if (inputs.renewEverySeconds === undefined) return undefined
  return planWindow(
    inputs.renewEverySeconds,
    lifetime,
    renewalBootstrap(source),
    now
  )
}

/** The kubeconfig whose user runs the helper on `dir`: it holds no token. */
export function renewingKubeconfig(
  cluster: Cluster,
  dir: string,
  namespace: string
): string {
  return coreRenewingKubeconfig(cluster, credentialHelper(), dir, namespace)
}
