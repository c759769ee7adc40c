import * as core from '@actions/core'
import type { ClusterApi } from './kube/cluster-api.js'
import { describeApiError, httpStatus } from './kube/api-errors.js'
import { errorMessage } from './errors.js'
import { removeKubeconfigDir } from './token/kubeconfig-file.js'
import type { RunRecord, RunState } from './runner/state.js'

export interface CleanupReport {
  /** One line per thing done (or found already done). */
  done: string[]
  /** One sentence per thing that could not be done. */
  problems: string[]
  /** True when the per-run Secret is gone, i.e. the token is revoked. */
  revoked: boolean
}

async function revoke(
  state: RunState,
  api: () => ClusterApi | Promise<ClusterApi>,
  report: CleanupReport
): Promise<void> {
  const anchor = state.anchor
  if (!anchor) {
    if (state.expiration) {
      report.done.push(
        `No per-run Secret to delete (bind-to was not 'secret'): the token stays valid until it expires at ${state.expiration}.`
      )
    }
    return
  }
  const where = `Secret ${anchor.namespace}/${anchor.name}`
  let client: ClusterApi | undefined
  try {
    client = await api()
    const result = await client.deleteSecret(
      anchor.namespace,
      anchor.name,
      anchor.uid
    )
    report.revoked = true
    report.done.push(
      result === 'deleted'
        ? `Revoked the token: deleted the per-run ${where}.`
        : `The per-run ${where} was already gone: the token is revoked.`
    )
  } catch (error) {
    if (httpStatus(error) === 409) {
      report.problems.push(
        `Left ${where} alone: it is not the Secret this step created (its uid changed).`
      )
      return
    }
    const message =
      httpStatus(error) === undefined && client === undefined
        ? errorMessage(error)
        : describeApiError(error, {
            operation: 'delete-secret',
            server: client?.server ?? '(unknown server)',
            namespace: anchor.namespace,
            secretName: anchor.name,
            oidc: client?.oidc
          }).message
    report.problems.push(`Could not revoke the token: ${message}`)
  }
}

function removeFiles(state: RunState, report: CleanupReport): void {
  const dir = state.kubeconfigDir
  if (!dir) return
  try {
    report.done.push(
      removeKubeconfigDir(dir)
        ? `Deleted the kubeconfig directory ${dir}.`
        : `The kubeconfig directory ${dir} was already gone.`
    )
  } catch (error) {
    const code = (error as { code?: string }).code ?? errorMessage(error)
    report.problems.push(
      `Could not delete the kubeconfig directory ${dir} (${code}); the runner empties RUNNER_TEMP at the end of the job.`
    )
  }
}

function restoreEnvironment(state: RunState, report: CleanupReport): void {
  if (state.previousKubeconfig === undefined) return
  if (process.env.KUBECONFIG !== state.kubeconfigPath) {
    report.done.push(
      'KUBECONFIG no longer points at this step’s kubeconfig; left unchanged.'
    )
    return
  }
  // The toolkit cannot unset a variable for later steps; an empty KUBECONFIG
  // makes kubectl and client libraries fall back to their defaults.
  core.exportVariable('KUBECONFIG', state.previousKubeconfig ?? '')
  report.done.push(
    state.previousKubeconfig === null
      ? 'Cleared KUBECONFIG (it was not set before this step).'
      : 'Restored KUBECONFIG to its previous value.'
  )
}

/**
 * Undo what main did, in order of importance: revoke the token first, then
 * delete the file, then restore the environment. Each part runs even when an
 * earlier one fails, and running it twice is harmless.
 */
export async function cleanUp(
  state: RunState,
  api: () => ClusterApi | Promise<ClusterApi>
): Promise<CleanupReport> {
  const report: CleanupReport = { done: [], problems: [], revoked: false }
  await revoke(state, api, report)
  removeFiles(state, report)
  restoreEnvironment(state, report)
  return report
}

/**
 * Main's undo after a failure. The record is cleared only when everything
 * was undone; otherwise it stays so that post tries again.
 */
export async function rollBack(
  record: RunRecord,
  api: ClusterApi | undefined
): Promise<CleanupReport> {
  const state = record.current
  if (Object.keys(state).length === 0) {
    return { done: [], problems: [], revoked: false }
  }
  let report: CleanupReport
  try {
    report = await cleanUp(state, () => {
      if (!api) throw new Error('no API client')
      return api
    })
  } catch (error) {
    return {
      done: [],
      problems: [`Rollback did not finish: ${errorMessage(error)}`],
      revoked: false
    }
  }
  if (report.problems.length === 0) record.clear()
  return report
}
