import * as core from '@actions/core'
import { connect, type ClusterApi } from './kube/cluster-api.js'
import {
  chooseSource,
  currentCluster,
  loadBootstrap,
  maskBootstrapCredentials,
  pinBootstrap,
  type BootstrapRef
} from './kube/bootstrap.js'
import { cleanUp } from './cleanup.js'
import { formatDuration } from './token/duration.js'
import { errorMessage } from './errors.js'
import { getInputs, type Inputs } from './runner/inputs.js'
import {
  buildKubeconfig,
  newKubeconfigDir,
  requireRunnerTemp,
  serialiseKubeconfig,
  toKubeConfig,
  writeKubeconfig
} from './token/kubeconfig-file.js'
import { resolveLifetime, type Lifetime } from './token/lifetime.js'
import { mintToken, rfc3339, type MintedToken } from './token/token-request.js'
import { enforceProof, gatherProof, type ProofRequest } from './proof/prove-token.js'
import { redact } from './runner/masking.js'
import { clearRunState, saveRunState, type RunState } from './runner/state.js'
import { writeMainSummary } from './runner/summary.js'
import { connectAsToken } from './kube/token-api.js'

/**
 * Main step: validate, mint, mask, prove least privilege, write the
 * kubeconfig, export, output. A failure anywhere rolls back what was made.
 */
export async function run(): Promise<void> {
  const state: RunState = {}
  let api: ClusterApi | undefined
  try {
    // Everything that can be wrong with the inputs fails here, before any network call.
    const inputs = getInputs()
    const runnerTemp = requireRunnerTemp()
    const bootstrap: BootstrapRef = {
      source: chooseSource(inputs.kubeconfig),
      context: inputs.context
    }
    const kc = loadBootstrap(bootstrap, inputs.kubeconfig)
    maskBootstrapCredentials(kc)
    const lifetime = resolveLifetime(inputs.duration, inputs.maxDurationSeconds)
    if (lifetime.warning) core.warning(lifetime.warning)

    state.bootstrap = pinBootstrap(bootstrap, kc)
    saveRunState(state)
    api = connect(kc)
    const minted = await mintToken(api, inputs, lifetime, state)
    state.mintedAt = rfc3339(new Date())
    state.credentialId = minted.credentialId
    state.expiration = rfc3339(minted.expiration)
    saveRunState(state)
    describeMint(lifetime, minted)

    const content = serialiseKubeconfig(
      buildKubeconfig(currentCluster(kc), minted.token, inputs.namespace)
    )
    await proveToken(content, inputs, lifetime, minted)

    state.kubeconfigDir = newKubeconfigDir(runnerTemp)
    saveRunState(state)
    const file = writeKubeconfig(state.kubeconfigDir, content)
    state.kubeconfigPath = file
    if (inputs.exportKubeconfig) {
      state.previousKubeconfig = process.env.KUBECONFIG ?? null
      saveRunState(state)
      core.exportVariable('KUBECONFIG', file)
    }
    saveRunState(state)
    report(inputs, minted, file)
  } catch (error) {
    try {
      await rollBack(state, api)
    } catch (rollbackError) {
      core.warning(
        `Rollback did not finish: ${redact(errorMessage(rollbackError))}`
      )
    }
    core.setFailed(redact(errorMessage(error)))
  }
}

/** Who the token is and what it may do, checked as the token itself; the summary records it. */
async function proveToken(
  content: string,
  inputs: Inputs,
  lifetime: Lifetime,
  minted: MintedToken
): Promise<void> {
  const request: ProofRequest = {
    verify: inputs.verify,
    expectAllowed: inputs.expectAllowed,
    expectDenied: inputs.expectDenied,
    excessPrivilege: inputs.excessPrivilege,
    namespace: inputs.namespace,
    username: minted.username
  }
  const needed =
    request.verify ||
    request.expectAllowed.length + request.expectDenied.length > 0 ||
    request.excessPrivilege !== 'off'
  const proof = needed
    ? await gatherProof(connectAsToken(toKubeConfig(content)), request)
    : undefined
  await writeMainSummary(
    {
      username: minted.username,
      namespace: inputs.namespace,
      audiences: inputs.audiences,
      boundTo: minted.boundTo,
      requestedSeconds: lifetime.seconds,
      grantedSeconds: minted.expiresIn,
      expiration: rfc3339(minted.expiration),
      credentialId: minted.credentialId
    },
    proof
  )
  if (proof) enforceProof(proof, request)
}

function report(inputs: Inputs, minted: MintedToken, file: string): void {
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

function describeMint(lifetime: Lifetime, minted: MintedToken): void {
  core.info(`Minted a token for ${minted.username} (${lifetime.reason}).`)
  core.info(`Bound to: ${minted.boundTo}.`)
  core.info(
    `Expires at ${rfc3339(minted.expiration)} (in ${formatDuration(minted.expiresIn)}).`
  )
  core.info(
    `credential-id (jti, as the audit log records it): ${minted.credentialId}`
  )
}

/**
 * A failed main leaves nothing behind: no Secret, no file, no changed env.
 * If any part could not be undone, the state stays so that post tries again.
 */
async function rollBack(
  state: RunState,
  api: ClusterApi | undefined
): Promise<void> {
  if (Object.keys(state).length === 0) return
  const result = await cleanUp(state, () => {
    if (!api) throw new Error('no API client')
    return api
  })
  for (const line of result.done) core.info(`Rolled back: ${line}`)
  for (const problem of result.problems) core.warning(redact(problem))
  if (result.problems.length === 0) clearRunState()
}
