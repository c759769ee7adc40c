import * as core from '@actions/core'
import { rfc3339 } from '../kube/formats.js'
import { formatDuration } from '../token/duration.js'
import type { Lifetime } from '../token/lifetime.js'
import type { MintedToken } from '../token/token-request.js'
import type { Inputs } from './inputs.js'

/** The log lines that say what was minted; never the token itself. */
export function logMint(lifetime: Lifetime, minted: MintedToken): void {
  core.info(`Minted a token for ${minted.username} (${lifetime.reason}).`)
  core.info(`Bound to: ${minted.boundTo}.`)
  core.info(
    `Expires at ${rfc3339(minted.expiration)} (in ${formatDuration(minted.expiresIn)}).`
  )
  core.info(
    `credential-id (jti, as the audit log records it): ${minted.credentialId}`
  )
}

/** The step's outputs, set last, once everything they describe exists. */
export function setOutputs(
  inputs: Inputs,
  minted: MintedToken,
  file: string
): void {
  core.setOutput('kubeconfig', file)
  core.setOutput('expiration', rfc3339(minted.expiration))
  core.setOutput('expires-in', String(minted.expiresIn))
  core.setOutput('credential-id', minted.credentialId)
  core.setOutput('service-account', minted.username)
  if (inputs.outputToken) core.setOutput('token', minted.token)
  core.info(
    `Kubeconfig: ${file}${inputs.exportKubeconfig ? ' (exported as KUBECONFIG)' : ''}`
  )
}
