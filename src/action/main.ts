import * as path from 'node:path'
import * as core from '@actions/core'
import { useActionHost } from './host.js'
import { rollBack } from '../core/cleanup.js'
import { errorMessage } from '../core/errors.js'
import { openBootstrap, currentCluster } from '../core/kube/bootstrap/index.js'
import type { ClusterApi } from '../core/kube/cluster-api.js'
import { mainBounds } from '../core/kube/deadline.js'
import { mintAndProve, writeOwnKubeconfig } from '../core/mint-flow.js'
import { enforceProof } from '../core/proof/prove-token.js'
import {
  getInputs,
  mainExpectations,
  withholdCredentialsFromChildren
} from './inputs.js'
import { maskSecret, redact } from '../core/masking.js'
import { logMint, setOutputs } from './outputs.js'
import { RunRecord, type StateExpectations } from '../core/run-record.js'
import { mintFacts, writeMainSummary } from './summary.js'
import { requireRunnerTemp } from '../core/token/kubeconfig-file.js'
import { decideLifetime } from './lifetime.js'
import {
  planRenewal,
  renewalBootstrap,
  renewingKubeconfig,
  writeRenewal
} from './renewal.js'

/**
 * Main step: validate, mint, mask, prove least privilege, write the
 * kubeconfig, export, output. A failure anywhere rolls back what was made.
 */
export async function run(): Promise<void> {
  useActionHost()
  // Every call of this step ends within 60 s of its start; the rollback has
  // its own 15 s, so a dead server fails the step well inside 90 s.
  // First: saving the empty record before anything else keeps a STATE_run
  // planted through $GITHUB_ENV from ever reaching post (see RunRecord).
  const record = new RunRecord()
  const bounds = mainBounds()
  let rollbackApi: (() => ClusterApi) | undefined
  let expected: StateExpectations | undefined
  try {
    // Everything that can be wrong with the inputs fails here, before any network call.
    const inputs = getInputs()
    const runnerTemp = requireRunnerTemp()
    expected = mainExpectations(inputs, runnerTemp)
    const bootstrap = await openBootstrap(
      inputs.kubeconfig,
      inputs.context,
      inputs.oidc,
      bounds
    )
    // A stored kubeconfig found on the runner is refused before any call.
    if (inputs.renewEverySeconds !== undefined) {
      renewalBootstrap(bootstrap.ref.source)
    }
    maskSecret(inputs.githubToken)
    withholdCredentialsFromChildren()
    const lifetime = await decideLifetime(
      inputs.duration,
      inputs.maxDurationSeconds,
      inputs
    )
    if (lifetime.warning) core.warning(redact(lifetime.warning))

    const renewal = planRenewal(
      inputs,
      lifetime,
      bootstrap.ref.source,
      Math.floor(Date.now() / 1000)
    )
    const { minted, content, proof, proofRequest } = await mintAndProve(
      bootstrap,
      inputs,
      inputs,
      lifetime,
      record,
      bounds,
      {
        connected: (api) => {
          rollbackApi = api
        },
        announce: (token) => {
          logMint(lifetime, token, renewal)
        }
      },
      renewal
    )
    await writeMainSummary(mintFacts(inputs, lifetime, minted, renewal), proof)
    if (proof) enforceProof(proof, proofRequest)

    // The proof ran with the first token in memory; with renewal the file
    // holds none: its user runs the helper, which reads the cache beside it.
    const cluster = currentCluster(bootstrap.kc)
    const file = writeOwnKubeconfig(
      record,
      runnerTemp,
      renewal
        ? (dir: string): string =>
            renewingKubeconfig(cluster, dir, inputs.namespace)
        : content
    )
    if (renewal) {
      writeRenewal(path.dirname(file), inputs, renewal, cluster, minted)
    }
    if (inputs.exportKubeconfig) {
      record.exportingKubeconfig(process.env.KUBECONFIG ?? null)
      core.exportVariable('KUBECONFIG', file)
    }
    setOutputs(inputs, lifetime, minted, file, runnerTemp, renewal)
  } catch (error) {
    // A failed main leaves nothing behind; what it cannot undo stays in state for post.
    const report = await rollBack(record, rollbackApi, expected)
    // Only what this run undid is a rollback; the rest says what it found.
    for (const { line, undid } of report.done) {
      core.info(undid ? `Rolled back: ${line}` : line)
    }
    for (const problem of report.problems) core.warning(redact(problem))
    core.setFailed(redact(errorMessage(error)))
  }
}
