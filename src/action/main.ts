import * as core from '@actions/core'
import { useActionHost } from './host.js'
import { rollBack } from '../core/cleanup.js'
import { errorMessage } from '../core/errors.js'
import { openBootstrap, currentCluster } from '../core/kube/bootstrap/index.js'
import { connect, type ClusterApi } from '../core/kube/cluster-api.js'
import { mainBounds, rollbackBounds } from '../core/kube/deadline.js'
import { rfc3339 } from '../core/kube/formats.js'
import {
  enforceProof,
  proveToken,
  type ProofRequest
} from '../core/proof/prove-token.js'
import {
  getInputs,
  mainExpectations,
  withholdCredentialsFromChildren,
  type Inputs
} from './inputs.js'
import { maskSecret, redact } from '../core/masking.js'
import { logMint, setOutputs } from './outputs.js'
import { RunRecord, type StateExpectations } from '../core/run-record.js'
import { mintFacts, writeMainSummary } from './summary.js'
import * as kubeconfig from '../core/token/kubeconfig-file.js'
import { decideLifetime } from './lifetime.js'
import { mintToken } from '../core/token/token-request.js'

/** What the inputs ask to be shown about the token minted for `username`. */
function proofRequest(inputs: Inputs, username: string): ProofRequest {
  return {
    verify: inputs.verify,
    expectAllowed: inputs.expectAllowed,
    expectDenied: inputs.expectDenied,
    excessPrivilege: inputs.excessPrivilege,
    namespace: inputs.namespace,
    username
  }
}

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
    const runnerTemp = kubeconfig.requireRunnerTemp()
    expected = mainExpectations(inputs, runnerTemp)
    const bootstrap = await openBootstrap(
      inputs.kubeconfig,
      inputs.context,
      inputs.oidc,
      bounds
    )
    maskSecret(inputs.githubToken)
    withholdCredentialsFromChildren()
    const lifetime = await decideLifetime(
      inputs.duration,
      inputs.maxDurationSeconds,
      inputs
    )
    if (lifetime.warning) core.warning(redact(lifetime.warning))

    record.bootstrap(bootstrap.ref)
    const api = connect(bootstrap.kc, bounds, bootstrap)
    rollbackApi = (): ClusterApi =>
      connect(bootstrap.kc, rollbackBounds(), bootstrap)
    const minted = await mintToken(api, inputs, lifetime, record)
    record.minted({
      mintedAt: rfc3339(new Date()),
      expiration: rfc3339(minted.expiration),
      grantedSeconds: minted.expiresIn,
      lifetimeSource: lifetime.source
    })
    logMint(lifetime, minted)

    const content = kubeconfig.serialiseKubeconfig(
      kubeconfig.buildKubeconfig(
        currentCluster(bootstrap.kc),
        minted.token,
        inputs.namespace
      )
    )
    const request = proofRequest(inputs, minted.username)
    const proof = await proveToken(content, request, bounds)
    await writeMainSummary(mintFacts(inputs, lifetime, minted), proof)
    if (proof) enforceProof(proof, request)

    const dir = record.kubeconfigDir(kubeconfig.newKubeconfigDir(runnerTemp))
    const file = kubeconfig.writeKubeconfig(dir, content)
    record.kubeconfigFile(file)
    if (inputs.exportKubeconfig) {
      record.exportingKubeconfig(process.env.KUBECONFIG ?? null)
      core.exportVariable('KUBECONFIG', file)
    }
    setOutputs(inputs, lifetime, minted, file, runnerTemp)
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
