import * as core from '@actions/core'
import { connect, type ClusterApi } from './api.js'
import {
  chooseSource,
  currentCluster,
  loadBootstrap,
  maskBootstrapCredentials,
  type BootstrapRef
} from './bootstrap.js'
import { cleanUp } from './cleanup.js'
import { formatDuration } from './duration.js'
import { errorMessage } from './errors.js'
import { getInputs } from './inputs.js'
import {
  buildKubeconfig,
  newKubeconfigDir,
  requireRunnerTemp,
  serialiseKubeconfig,
  writeKubeconfig
} from './kubeconfig.js'
import { resolveLifetime } from './lifetime.js'
import { mintToken, rfc3339 } from './mint.js'
import { redact } from './secrets.js'
import { clearRunState, saveRunState, type RunState } from './state.js'

/** Main step: validate, mint, mask, write the kubeconfig, export, output. */
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

    state.bootstrap = bootstrap
    saveRunState(state)
    api = connect(kc)
    const minted = await mintToken(api, inputs, lifetime, state)
    state.mintedAt = rfc3339(new Date())
    state.credentialId = minted.credentialId
    state.expiration = rfc3339(minted.expiration)

    state.kubeconfigDir = newKubeconfigDir(runnerTemp)
    saveRunState(state)
    const config = buildKubeconfig(currentCluster(kc), minted.token, inputs.namespace)
    const file = writeKubeconfig(state.kubeconfigDir, serialiseKubeconfig(config))
    state.kubeconfigPath = file
    if (inputs.exportKubeconfig) {
      state.previousKubeconfig = process.env.KUBECONFIG ?? null
      saveRunState(state)
      core.exportVariable('KUBECONFIG', file)
    }
    saveRunState(state)

    core.setOutput('kubeconfig', file)
    core.setOutput('expiration', state.expiration)
    core.setOutput('expires-in', String(minted.expiresIn))
    core.setOutput('credential-id', minted.credentialId)
    core.setOutput('service-account', minted.username)
    if (inputs.outputToken) core.setOutput('token', minted.token)

    core.info(`Minted a token for ${minted.username} (${lifetime.reason}).`)
    core.info(`Bound to: ${minted.boundTo}.`)
    core.info(`Expires at ${state.expiration} (in ${formatDuration(minted.expiresIn)}).`)
    core.info(`credential-id (jti, as the audit log records it): ${minted.credentialId}`)
    core.info(`Kubeconfig: ${file}${inputs.exportKubeconfig ? ' (exported as KUBECONFIG)' : ''}`)
  } catch (error) {
    await rollBack(state, api)
    core.setFailed(redact(errorMessage(error)))
  }
}

/** A failed main leaves nothing behind: no Secret, no file, no changed env. */
async function rollBack(state: RunState, api: ClusterApi | undefined): Promise<void> {
  if (Object.keys(state).length === 0) return
  const report = await cleanUp(state, () => {
    if (!api) throw new Error('no API client')
    return api
  })
  for (const line of report.done) core.info(`Rolled back: ${line}`)
  for (const problem of report.problems) core.warning(redact(problem))
  clearRunState()
}
