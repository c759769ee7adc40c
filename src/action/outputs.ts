import * as path from 'node:path'
import * as core from '@actions/core'
import { rfc3339 } from '../core/kube/formats.js'
import { formatDuration } from '../core/token/duration.js'
import type { Lifetime } from '../core/token/lifetime.js'
import type { MintedToken } from '../core/token/token-request.js'
import { describeHeld } from '../core/token/lifetime.js'
import type { Inputs } from './inputs.js'
import type { RunState } from '../core/run-record.js'
import type { Renewal } from '../core/mint-flow.js'

function windowEndText(renewal: Renewal): string {
  return rfc3339(new Date(renewal.windowEnd * 1000))
}

/** The log lines that say what was minted; never the token itself. */
export function logMint(
  lifetime: Lifetime,
  minted: MintedToken,
  renewal?: Renewal
): void {
  core.info(`Minted a token for ${minted.username} (${lifetime.reason}).`)
  core.info(`Bound to: ${minted.boundTo}.`)
  core.info(
    `Expires at ${rfc3339(minted.expiration)} (in ${formatDuration(minted.expiresIn)}).`
  )
  if (renewal) {
    core.info(
      `The kubeconfig renews it: a new token every ` +
        `${formatDuration(renewal.tokenSeconds)} or so, each bound to the ` +
        `same Secret, until ${windowEndText(renewal)} (in ` +
        `${formatDuration(renewal.windowSeconds)}); then it refuses.`
    )
  }
  core.info(
    `credential-id (jti, as the audit log records it): ${minted.credentialId}`
  )
}

/** Where Docker container actions find RUNNER_TEMP (runner 2.329 and later). */
export const CONTAINER_RUNNER_TEMP = '/github/runner_temp'

/**
 * The kubeconfig as a Docker container action (`docker://` or a Dockerfile
 * action) sees it: the runner mounts RUNNER_TEMP at /github/runner_temp, so
 * the path relative to RUNNER_TEMP is rejoined there. That is right in a
 * `container:` job too, where RUNNER_TEMP is /__w/_temp but the action's
 * container still gets /github/runner_temp.
 */
export function containerKubeconfigPath(
  file: string,
  runnerTemp: string
): string {
  const relative = path.relative(runnerTemp, file)
  return path.posix.join(
    CONTAINER_RUNNER_TEMP,
    ...relative.split(path.sep).filter((part) => part !== '')
  )
}

/** The step's outputs, set last, once everything they describe exists. */
export function setOutputs(
  inputs: Inputs,
  lifetime: Lifetime,
  minted: MintedToken,
  file: string,
  runnerTemp: string,
  renewal?: Renewal
): void {
  core.setOutput('kubeconfig', file)
  // A container action cannot run the helper (no Node at that path, no
  // ID-token variables), and a static token for the whole window would
  // undo renewal: with renewal there is no container kubeconfig.
  core.setOutput(
    'container-kubeconfig',
    renewal ? '' : containerKubeconfigPath(file, runnerTemp)
  )
  core.setOutput('lifetime-source', lifetime.source)
  // With renewal, what a user plans around: the window's end.
  core.setOutput(
    'expiration',
    renewal ? windowEndText(renewal) : rfc3339(minted.expiration)
  )
  core.setOutput(
    'expires-in',
    String(renewal ? renewal.windowSeconds : minted.expiresIn)
  )
  core.setOutput('token-lifetime', String(minted.expiresIn))
  core.setOutput('credential-id', minted.credentialId)
  core.setOutput('service-account', minted.username)
  if (inputs.outputToken) core.setOutput('token', minted.token)
  core.info(
    `Kubeconfig: ${file}${inputs.exportKubeconfig ? ' (exported as KUBECONFIG)' : ''}`
  )
}

/**
 * For post: how long the job held the token against what was granted
 * ("held 12m of 25m"), so users can tune `duration`.
 */
export function heldWords(state: RunState, now: Date = new Date()): string {
  if (!state.mintedAt || state.grantedSeconds === undefined) {
    return 'held: unknown (the main step did not record the mint)'
  }
  const source = state.lifetimeSource
    ? ` (lifetime-source: ${state.lifetimeSource})`
    : ''
  return `${describeHeld(new Date(state.mintedAt), state.grantedSeconds, now)}${source}`
}
