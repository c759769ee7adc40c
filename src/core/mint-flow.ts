// The CI-agnostic part of minting, in the order both front doors run it:
// the action's main step (src/action/main.ts, which adds renew-every's files
// and the GitHub outputs) and the CLI's mint (src/cli/mint.ts, which adds
// the JSON object) call these, so the sequence exists once.
import { currentCluster, type Bootstrap } from './kube/bootstrap/index.js'
import { connect, type ClusterApi } from './kube/cluster-api.js'
import { rollbackBounds, type CallBounds } from './kube/deadline.js'
import { rfc3339 } from './kube/formats.js'
import {
  proveToken,
  type Proof,
  type ProofRequest
} from './proof/prove-token.js'
import type { RunRecord } from './run-record.js'
import * as kubeconfig from './token/kubeconfig-file.js'
import type { Lifetime } from './token/lifetime.js'
import {
  mintToken,
  type MintedToken,
  type MintRequest
} from './token/token-request.js'

/** With `renew-every`: the window the kubeconfig renews in, and each token's lifetime. */
export interface Renewal {
  /** Each token's lifetime, seconds: min(renew-every, the window). */
  tokenSeconds: number
  /** How long the job may use the cluster (`duration` or `auto`), seconds. */
  windowSeconds: number
  /** The window's end, seconds since the epoch. */
  windowEnd: number
}

export interface MintedAndProven {
  minted: MintedToken
  /** The scanner's kubeconfig, serialised; it holds the token. */
  content: string
  /** What the proof found; undefined when nothing was asked. */
  proof: Proof | undefined
  proofRequest: ProofRequest
}

/**
 * Connect as the bootstrap identity (recorded first), mint the token bound
 * as asked (the per-run Secret recorded before it is created), record what
 * was granted, build the kubeconfig and prove the token. `connected` hands
 * the caller the client for a rollback before anything is made; `announce`
 * says what was minted before the proof runs.
 */
export async function mintAndProve(
  bootstrap: Bootstrap,
  request: MintRequest,
  proof: Omit<ProofRequest, 'username' | 'namespace'>,
  lifetime: Lifetime,
  record: RunRecord,
  bounds: CallBounds,
  hooks: {
    connected: (rollbackApi: () => ClusterApi) => void
    announce: (minted: MintedToken) => void
  },
  renewal?: Renewal
): Promise<MintedAndProven> {
  record.bootstrap(bootstrap.ref)
  const api = connect(bootstrap.kc, bounds, bootstrap)
  hooks.connected(() => connect(bootstrap.kc, rollbackBounds(), bootstrap))
  const minted = await mintToken(
    api,
    renewal ? { ...request, tokenSeconds: renewal.tokenSeconds } : request,
    lifetime,
    record
  )
  // With renewal, the record's expiry and lifetime are the window's: what
  // post's "held 12m of 1h" and the outputs speak of.
  record.minted({
    mintedAt: rfc3339(new Date()),
    expiration: renewal
      ? rfc3339(new Date(renewal.windowEnd * 1000))
      : rfc3339(minted.expiration),
    grantedSeconds: renewal ? renewal.windowSeconds : minted.expiresIn,
    lifetimeSource: lifetime.source,
    ...(renewal ? { renewEvery: renewal.tokenSeconds } : {})
  })
  hooks.announce(minted)
  const content = kubeconfig.serialiseKubeconfig(
    kubeconfig.buildKubeconfig(
      currentCluster(bootstrap.kc),
      minted.token,
      request.namespace
    )
  )
  const proofRequest: ProofRequest = {
    ...proof,
    namespace: request.namespace,
    username: minted.username
  }
  return {
    minted,
    content,
    proof: await proveToken(content, proofRequest, bounds),
    proofRequest
  }
}

/**
 * The kubeconfig, in a fresh 0700 directory under `base` (recorded before
 * it is made), 0600 and created exclusively. `content` may depend on the
 * directory (renewal's exec user names it); `scope`, the CLI's job scope,
 * goes into the directory's name so revoke can tell its own. Returns the
 * file's path.
 */
export function writeOwnKubeconfig(
  record: RunRecord,
  base: string,
  content: string | ((dir: string) => string),
  scope?: string
): string {
  const dir = record.kubeconfigDir(kubeconfig.newKubeconfigDir(base, scope))
  const file = kubeconfig.writeKubeconfig(
    dir,
    typeof content === 'string' ? content : content(dir)
  )
  record.kubeconfigFile(file)
  return file
}
