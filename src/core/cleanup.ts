import { host } from './ports.js'
import type { ClusterApi } from './kube/cluster-api.js'
import { describeApiError, httpStatus } from './kube/api-errors.js'
import { errorMessage } from './errors.js'
import { removeKubeconfigDir } from './token/kubeconfig-file.js'
import {
  runSelector,
  secretRemains,
  shellWord
} from './token/per-run-secret.js'
import {
  UntrustedStateError,
  verifyRunState,
  type RunRecord,
  type RunState,
  type StateExpectations
} from './run-record.js'

/** One line of the report: something undone, or found so, or left for later. */
interface Done {
  line: string
  /** True when this run undid something (main prefixes it 'Rolled back:'). */
  undid: boolean
}

export interface CleanupReport {
  /** One line per thing done (or found already done). */
  done: Done[]
  /** One sentence per thing that could not be done. */
  problems: string[]
  /** True when the per-run Secret is gone, i.e. the token is revoked. */
  revoked: boolean
  /**
   * True when the Secret was not found but its create was never answered:
   * a late create could still land, so main's record must stay for post.
   */
  recheck: boolean
}

function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`
}

/** What remains when the Secret could not be deleted, and the line that deletes it. */
function leftover(state: RunState): string {
  const anchor = state.anchor
  if (!anchor) return ''
  const token = state.expiration
    ? `, so the token stays valid until ${state.expiration}`
    : ''
  return ` The ${secretRemains(anchor, `${anchor.created ? 'remains' : 'may exist'}${token}`)}`
}

async function revoke(
  state: RunState,
  api: () => ClusterApi | Promise<ClusterApi>,
  report: CleanupReport,
  last: boolean
): Promise<void> {
  const anchor = state.anchor
  if (!anchor) {
    if (state.expiration) {
      report.done.push({
        line: `No per-run Secret to delete (bind-to was not 'secret'): the token stays valid until it expires at ${state.expiration}.`,
        undid: false
      })
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
    // A uid comes only from an answered create, which also sets created.
    if (anchor.created) {
      report.done.push(
        result === 'deleted'
          ? {
              line: `Revoked the token: deleted the per-run ${where}.`,
              undid: true
            }
          : {
              line: `The per-run ${where} was already gone: the token is revoked.`,
              undid: false
            }
      )
    } else if (result === 'deleted') {
      // The create's answer was lost (or main stopped before it came).
      report.done.push({
        line:
          `Deleted the per-run ${where}, which a create whose answer never ` +
          `arrived had left (no token was bound to it).`,
        undid: true
      })
    } else {
      report.recheck = !last
      report.done.push({
        line: last
          ? `The per-run ${where} does not exist: its create never landed, ` +
            `so no token was bound to it.`
          : `The per-run ${where} was not found; post checks again in case ` +
            `its unanswered create lands late.`,
        undid: false
      })
    }
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
            bootstrap: client?.bootstrap
          }).message
    report.problems.push(
      `Could not revoke the token: ${sentence(message)}` +
        (last ? leftover(state) : '')
    )
  }
}

function removeFiles(state: RunState, report: CleanupReport): void {
  const dir = state.kubeconfigDir
  if (!dir) return
  try {
    const result = removeKubeconfigDir(dir)
    if (result === 'replaced') {
      report.problems.push(
        `Left ${dir} alone: a link or a file stands where this step made the ` +
          `kubeconfig directory (a later step replaced it); the runner ` +
          `empties RUNNER_TEMP at the end of the job.`
      )
      return
    }
    report.done.push(
      result === 'removed'
        ? { line: `Deleted the kubeconfig directory ${dir}.`, undid: true }
        : {
            line: `The kubeconfig directory ${dir} was already gone.`,
            undid: false
          }
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
    report.done.push({
      line: 'KUBECONFIG no longer points at this step’s kubeconfig; left unchanged.',
      undid: false
    })
    return
  }
  // The toolkit cannot unset a variable for later steps; an empty KUBECONFIG
  // makes kubectl and client libraries fall back to their defaults.
  host().exportVariable('KUBECONFIG', state.previousKubeconfig ?? '')
  report.done.push({
    line:
      state.previousKubeconfig === null
        ? 'Cleared KUBECONFIG (it was not set before this step).'
        : 'Restored KUBECONFIG to its previous value.',
    undid: true
  })
}

/**
 * Undo what main did, in order of importance: revoke the token first, then
 * delete the file, then restore the environment. Each part runs even when an
 * earlier one fails, and running it twice is harmless. `last` (post) adds,
 * to a failed revocation, what remains and the kubectl line that removes it.
 */
export async function cleanUp(
  state: RunState,
  api: () => ClusterApi | Promise<ClusterApi>,
  { last = false }: { last?: boolean } = {}
): Promise<CleanupReport> {
  const report: CleanupReport = {
    done: [],
    problems: [],
    revoked: false,
    recheck: false
  }
  await revoke(state, api, report, last)
  removeFiles(state, report)
  restoreEnvironment(state, report)
  return report
}

function noClient(): never {
  throw new Error('no API client')
}

/**
 * Main's undo after a failure. The record is cleared only when everything
 * was undone; otherwise it stays so that post tries again (also when a
 * Secret whose create was never answered is not there yet).
 */
export async function rollBack(
  record: RunRecord,
  api: (() => ClusterApi) | undefined,
  expected: StateExpectations | undefined
): Promise<CleanupReport> {
  const state = record.current
  if (Object.keys(state).length === 0) {
    return { done: [], problems: [], revoked: false, recheck: false }
  }
  let report: CleanupReport
  try {
    // The same checks as post's: main's own record passes them, and a
    // defect that let anything else in would delete nothing.
    if (!expected) throw new Error('the inputs were not read')
    verifyRunState(state, expected)
    // The record names a per-run Secret only after main built its client
    // (mintToken runs after rollbackApi is set), so api is there whenever
    // cleanUp calls it; without one, nothing in the record needs it.
    report = await cleanUp(state, api ?? noClient)
  } catch (error) {
    return {
      done: [],
      problems: [`Rollback did not finish: ${errorMessage(error)}`],
      revoked: false,
      recheck: false
    }
  }
  if (report.problems.length === 0 && !report.recheck) record.clear()
  return report
}

/**
 * What post says when it will not act on the saved state: what did not
 * match (never a value from the record) and how to find what main may have
 * made. `namespace` is the validated input, or undefined.
 */
export function untrustedState(
  error: UntrustedStateError,
  namespace: string | undefined
): string {
  return (
    `${error.message.replace(/\.$/, '')}, so post deleted nothing: if the ` +
    `main step created a per-run Secret, find it with 'kubectl get secrets ` +
    `-n ${shellWord(namespace ?? 'NAMESPACE')} -l ${shellWord(runSelector())}' ` +
    `and delete it (that revokes the token); the runner empties RUNNER_TEMP, ` +
    `and so the kubeconfig, at the end of the job.`
  )
}

/** cleanup: false keeps the token; main refuses it with a per-run Secret. */
export function keptInPlace(state: RunState): {
  message: string
  secretRemains: boolean
} {
  const expiry = state.expiration ?? 'its expiry'
  if (state.anchor) {
    return {
      secretRemains: true,
      message:
        `cleanup: false, so the token stays valid until ${expiry} and its ` +
        secretRemains(state.anchor, 'remains')
    }
  }
  return {
    secretRemains: false,
    message: `cleanup: false, so the kubeconfig and the token were left in place; the token expires at ${expiry}.`
  }
}
