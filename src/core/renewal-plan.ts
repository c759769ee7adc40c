// The CI-agnostic half of renewal's setup, shared by the action's main step
// and the CLI's mint: the plan (the window and each token's lifetime) and
// the kubeconfig whose user runs the credential helper. Each front door
// says in its own words where the helper is and which bootstrap renews.
import { ActionError, InputError } from './errors.js'
import type { currentCluster } from './kube/bootstrap/index.js'
import type { Renewal } from './mint-flow.js'
import { formatDuration } from './token/duration.js'
import * as kubeconfig from './token/kubeconfig-file.js'
import type { Lifetime } from './token/lifetime.js'
import type { MintedToken } from './token/token-request.js'
import { execUser, writeRenewalFiles } from './renewal/setup.js'
import { RENEWAL_MAX_SECONDS, type RenewalBootstrap } from './renewal/state.js'

type Cluster = ReturnType<typeof currentCluster>

/** The renewal plan mint follows: the window, each token's lifetime, how to authenticate. */
export interface RenewalPlan extends Renewal {
  bootstrap: RenewalBootstrap
  /** When the first token was asked for, seconds since the epoch. */
  issuedAt: number
}

/**
 * The window (the decided lifetime) and each token's lifetime,
 * min(renew-every, window). The helper refuses a longer window or token (a
 * tampered renewal.json must not ask for one), so none is ever written.
 */
export function planWindow(
  renewEverySeconds: number,
  lifetime: Lifetime,
  bootstrap: RenewalBootstrap,
  now: number
): RenewalPlan {
  if (lifetime.seconds > RENEWAL_MAX_SECONDS) {
    throw new InputError(
      `With 'renew-every', the window ('duration', or what 'auto' decided) ` +
        `is at most ${formatDuration(RENEWAL_MAX_SECONDS)}, and it would be ` +
        `${formatDuration(lifetime.seconds)}: set 'duration' (or ` +
        `'max-duration' for 'auto') to ${formatDuration(RENEWAL_MAX_SECONDS)} or less.`
    )
  }
  return {
    bootstrap,
    tokenSeconds: Math.min(renewEverySeconds, lifetime.seconds),
    windowSeconds: lifetime.seconds,
    windowEnd: now + lifetime.seconds,
    issuedAt: now
  }
}

/** The kubeconfig whose user runs `helper` (by Node's absolute path) on `dir`: it holds no token. */
export function renewingKubeconfig(
  cluster: Cluster,
  helper: string,
  dir: string,
  namespace: string
): string {
  return kubeconfig.serialiseKubeconfig(
    kubeconfig.buildKubeconfigFor(
      cluster,
      execUser(process.execPath, helper, dir),
      namespace
    )
  )
}

/** Whom every renewed token is for: what the renewal files name besides the plan. */
export interface RenewalTarget {
  namespace: string
  serviceAccount: string
  audiences: string[]
}

/**
 * Write renewal.json, the token cache (with the first token) and its record
 * beside the kubeconfig, as one sentence on failure. `words` are the front
 * door's: its name for renew-every and where the directory came from.
 */
export function writeRenewalBeside(
  dir: string,
  target: RenewalTarget,
  renewal: RenewalPlan,
  cluster: Cluster,
  minted: MintedToken,
  words: { renewEvery: string; dirFrom: string }
): void {
  const secret = minted.boundSecret
  const ca = kubeconfig.caData(cluster)
  if (!secret || !ca) {
    throw new ActionError(
      `The first token is not bound to the per-run Secret by uid, or the ` +
        `cluster has no CA data, so no renewing kubeconfig was written: ` +
        `remove ${words.renewEvery}, and report this.`
    )
  }
  try {
    writeRenewalFiles(
      dir,
      {
        server: cluster.server,
        caData: ca,
        namespace: target.namespace,
        serviceAccount: target.serviceAccount,
        audiences: target.audiences,
        secret,
        windowEnd: renewal.windowEnd,
        tokenSeconds: renewal.tokenSeconds,
        bootstrap: renewal.bootstrap
      },
      {
        token: minted.token,
        grantedSeconds: minted.expiresIn,
        credentialId: minted.credentialId
      },
      renewal.issuedAt
    )
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'unknown error'
    throw new ActionError(
      `Could not write the renewal files beside the kubeconfig (${code}): ` +
        `check that ${words.dirFrom} is writable.`
    )
  }
}
