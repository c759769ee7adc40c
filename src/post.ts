import * as core from '@actions/core'
import { cleanUp } from './cleanup.js'
import { errorMessage } from './errors.js'
import { reopenBootstrap } from './kube/bootstrap.js'
import { connect } from './kube/cluster-api.js'
import { postBounds } from './kube/deadline.js'
import { getCleanupInput, getKubeconfigInput } from './runner/inputs.js'
import { redact } from './runner/masking.js'
import {
  getRunState,
  UnreadableStateError,
  type RunState
} from './runner/state.js'
import { writePostSummary } from './runner/summary.js'
import { deleteCommand, runSelector } from './token/per-run-secret.js'

/** What to do when post cannot tell what main made. */
function unreadableState(): string {
  const namespace = core.getInput('namespace').trim() || 'default'
  return (
    `The state the main step saved could not be read, so nothing was cleaned ` +
    `up: if it created a per-run Secret, find it with 'kubectl get secrets ` +
    `-n ${namespace} -l ${runSelector()}' and delete it (that revokes the ` +
    `token); the runner empties RUNNER_TEMP, and so the kubeconfig, at the ` +
    `end of the job.`
  )
}

/** cleanup: false keeps the token; main refuses it with a per-run Secret. */
function keptInPlace(state: RunState): void {
  const expiry = state.expiration ?? 'its expiry'
  if (state.anchor) {
    core.warning(
      `cleanup: false, so the token stays valid until ${expiry} and its ` +
        `per-run Secret ${state.anchor.namespace}/${state.anchor.name} ` +
        `remains: delete it with '${deleteCommand(state.anchor)}'.`
    )
    return
  }
  core.info(
    `cleanup: false, so the kubeconfig and the token were left in place; the token expires at ${expiry}.`
  )
}

/**
 * Post step: revoke the token, delete the kubeconfig, restore KUBECONFIG.
 * It never fails the job; problems become warnings.
 */
export async function run(): Promise<void> {
  try {
    const state = getRunState()
    if (!state) {
      core.info('Nothing to clean up: the main step created nothing.')
      return
    }
    if (!getCleanupInput()) {
      keptInPlace(state)
      return
    }
    const report = await cleanUp(
      state,
      () =>
        connect(
          reopenBootstrap(state.bootstrap, getKubeconfigInput()),
          postBounds()
        ),
      { last: true }
    )
    for (const line of report.done) core.info(line)
    for (const problem of report.problems) core.warning(redact(problem))
    await writePostSummary(
      [...report.done, ...report.problems.map((p) => `Problem: ${redact(p)}`)],
      report.revoked,
      state.mintedAt
    )
  } catch (error) {
    if (error instanceof UnreadableStateError) {
      core.warning(unreadableState())
      return
    }
    core.warning(`Cleanup did not finish: ${redact(errorMessage(error))}`)
  }
}
