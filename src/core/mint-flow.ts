// The CI-agnostic part of minting, in the order both front doors run it:
// the action's main step (src/action/main.ts) and the CLI's mint
// (src/cli/mint.ts) call these, and add only what their CI shows (outputs,
// summary, the JSON object).
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
  }
): Promise<MintedAndProven> {
  record.bootstrap(bootstrap.ref)
  const api = connect(bootstrap.kc, bounds, bootstrap)
  hooks.connected(() => connect(bootstrap.kc, rollbackBounds(), bootstrap))
  const minted = await mintToken(api, request, lifetime, record)
  record.minted({
    mintedAt: rfc3339(new Date()),
    expiration: rfc3339(minted.expiration),
    grantedSeconds: minted.expiresIn,
    lifetimeSource: lifetime.source
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
 * it is made), 0600 and created exclusively. Returns the file's path.
 */
export function writeOwnKubeconfig(
  record: RunRecord,
  base: string,
  content: string,
  scope?: string
): string {
  const dir = record.kubeconfigDir(kubeconfig.newKubeconfigDir(base, scope))
  const file = kubeconfig.writeKubeconfig(dir, content)
  record.kubeconfigFile(file)
  return file
}
