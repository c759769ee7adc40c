// The CI-agnostic half of renewal's setup, shared by the action's main step
// and the CLI's mint: the plan (the window and each token's lifetime) and
// the kubeconfig whose user runs the credential helper. Each front door
// says in its own words where the helper is and which bootstrap renews.
import { InputError } from './errors.js'
import type { currentCluster } from './kube/bootstrap/index.js'
import type { Renewal } from './mint-flow.js'
import { formatDuration } from './token/duration.js'
import * as kubeconfig from './token/kubeconfig-file.js'
import type { Lifetime } from './token/lifetime.js'
import { execUser } from './renewal/setup.js'
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
