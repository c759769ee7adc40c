import * as core from '@actions/core'
import { useActionHost } from './host.js'
import { cleanUp, keptInPlace, untrustedState } from '../core/cleanup.js'
import { errorMessage } from '../core/errors.js'
import { reopenBootstrap } from '../core/kube/bootstrap/index.js'
import { connect } from '../core/kube/cluster-api.js'
import { postBounds } from '../core/kube/deadline.js'
import {
  getCaDataInput,
  getCleanupInput,
  getKubeconfigInput,
  getPostExpectations,
  withholdCredentialsFromChildren
} from './inputs.js'
import { redact } from '../core/masking.js'
import { heldWords } from './outputs.js'
import { UntrustedStateError } from '../core/run-record.js'
import { mintReport } from '../core/renewal/report.js'
import { getRunState } from './state.js'
import { writePostSummary } from './summary.js'

/**
 * Post step: revoke the token, delete the kubeconfig, restore KUBECONFIG.
 * It never fails the job; problems become warnings.
 */
export async function run(): Promise<void> {
  useActionHost()
  const expected = getPostExpectations()
  try {
    // Post acts only on a record main could have made, checked against
    // what post knows for itself: a record an earlier step planted deletes
    // nothing and sends no credential anywhere.
    const state = getRunState(expected)
    if (!state) {
      core.info('Nothing to clean up: the main step created nothing.')
      return
    }
    const held = heldWords(state)
    if (!getCleanupInput()) {
      const kept = keptInPlace(state)
      if (kept.secretRemains) core.warning(kept.message)
      else core.info(kept.message)
      core.info(`The job ${held}.`)
      return
    }
    // Read before cleanup removes the directory: how many tokens the
    // renewing kubeconfig minted, only reported (the delete revokes them).
    // Guarded on its own (mintReport itself never throws): nothing the
    // record holds may keep the delete below from running.
    let minted: string[] = []
    try {
      if (state.renewEvery !== undefined && state.kubeconfigDir) {
        minted = mintReport(state.kubeconfigDir)
      }
    } catch {
      minted = []
    }
    for (const line of minted) core.info(line)
    const report = await cleanUp(
      state,
      async () => {
        // One deadline for the ID token (OIDC) and the delete together.
        const bounds = postBounds()
        const bootstrap = await reopenBootstrap(
          state.bootstrap,
          getKubeconfigInput(),
          getCaDataInput,
          bounds
        )
        withholdCredentialsFromChildren()
        return connect(bootstrap.kc, bounds, bootstrap)
      },
      { last: true }
    )
    const lines = report.done.map(({ line }) => line)
    for (const line of lines) core.info(line)
    for (const problem of report.problems) core.warning(redact(problem))
    core.info(`The job ${held}.`)
    await writePostSummary(
      [
        ...minted,
        ...lines,
        ...report.problems.map((p) => `Problem: ${redact(p)}`)
      ],
      report.revoked,
      held
    )
  } catch (error) {
    if (error instanceof UntrustedStateError) {
      core.warning(untrustedState(error, expected.namespace))
      return
    }
    core.warning(`Cleanup did not finish: ${redact(errorMessage(error))}`)
  }
}
