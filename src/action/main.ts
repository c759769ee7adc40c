import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import * as core from '@actions/core'
import { useActionHost } from './host.js'
import { rollBack } from '../core/cleanup.js'
import { ActionError, InputError, errorMessage } from '../core/errors.js'
import {
  openBootstrap,
  currentCluster,
  type BootstrapSource
} from '../core/kube/bootstrap/index.js'
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
  RENEW_NEEDS_REUSABLE_BOOTSTRAP,
  type Inputs
} from './inputs.js'
import { maskSecret, redact } from '../core/masking.js'
import { logMint, setOutputs } from './outputs.js'
import { RunRecord, type StateExpectations } from '../core/run-record.js'
import { mintFacts, writeMainSummary } from './summary.js'
import * as kubeconfig from '../core/token/kubeconfig-file.js'
import { decideLifetime } from './lifetime.js'
import { mintToken, type MintedToken } from '../core/token/token-request.js'
import {
  RENEWAL_MAX_SECONDS,
  type RenewalBootstrap
} from '../core/renewal/state.js'
import { execUser, writeRenewalFiles } from '../core/renewal/setup.js'
import type { Lifetime } from '../core/token/lifetime.js'
import { formatDuration } from '../core/token/duration.js'
import type { Renewal } from './outputs.js'

/**
 * How a renewal in a later step authenticates: the same bootstrap, when it
 * needs no stored credential. A kubeconfig file found on the runner
 * (KUBECONFIG, ~/.kube/config) is refused like the 'kubeconfig' input.
 */
function renewalBootstrap(source: BootstrapSource): RenewalBootstrap {
  if (source.kind === 'oidc') return { kind: 'oidc', audience: source.audience }
  if (source.kind === 'in-cluster') return { kind: 'in-cluster' }
  throw new InputError(RENEW_NEEDS_REUSABLE_BOOTSTRAP)
}

/**
 * dist/credential.js beside the running bundle: the helper the renewing
 * kubeconfig runs, by its absolute path (and Node's, process.execPath).
 */
function credentialHelper(): string {
  const file = path.join(
    path.dirname(fileURLToPath(import.meta.url)),
    'credential.js'
  )
  if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) {
    throw new ActionError(
      `The action's credential helper (dist/credential.js) is missing, so ` +
        `'renew-every' cannot work: use a released version of the action, ` +
        `or remove 'renew-every'.`
    )
  }
  return file
}

/** Write the renewal files beside the kubeconfig, as one sentence on failure. */
function writeRenewal(
  dir: string,
  inputs: Inputs,
  renewal: Renewal & { bootstrap: RenewalBootstrap },
  cluster: ReturnType<typeof currentCluster>,
  minted: MintedToken,
  issuedAt: number
): void {
  const secret = minted.boundSecret
  const ca = kubeconfig.caData(cluster)
  if (!secret || !ca) {
    throw new ActionError(
      `The first token is not bound to the per-run Secret by uid, or the ` +
        `cluster has no CA data, so no renewing kubeconfig was written: ` +
        `remove 'renew-every', and report this.`
    )
  }
  try {
    writeRenewalFiles(
      dir,
      {
        server: cluster.server,
        caData: ca,
        namespace: inputs.namespace,
        serviceAccount: inputs.serviceAccount,
        audiences: inputs.audiences,
        secret,
        windowEnd: renewal.windowEnd,
        tokenSeconds: renewal.tokenSeconds,
        bootstrap: renewal.bootstrap
      },
      {
        token: minted.token,
        grantedSeconds: minted.expiresIn,
        credentialId: minted.credentialId
      },
      issuedAt
    )
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'unknown error'
    throw new ActionError(
      `Could not write the renewal files beside the kubeconfig (${code}): ` +
        `check that the runner's temporary directory is writable.`
    )
  }
}

/** The window and each token's lifetime, when `renew-every` is set. */
function planRenewal(
  inputs: Inputs,
  lifetime: Lifetime,
  source: BootstrapSource,
  now: number
): (Renewal & { bootstrap: RenewalBootstrap }) | undefined {
  if (inputs.renewEverySeconds === undefined) return undefined
  // The helper refuses a longer window or token (a tampered renewal.json
  // must not ask for one), so main never writes one.
  if (lifetime.seconds > RENEWAL_MAX_SECONDS) {
    throw new InputError(
      `With 'renew-every', the window ('duration', or what 'auto' decided) ` +
        `is at most ${formatDuration(RENEWAL_MAX_SECONDS)}, and it would be ` +
        `${formatDuration(lifetime.seconds)}: set 'duration' (or ` +
        `'max-duration' for 'auto') to ${formatDuration(RENEWAL_MAX_SECONDS)} or less.`
    )
  }
  return {
    bootstrap: renewalBootstrap(source),
    tokenSeconds: Math.min(inputs.renewEverySeconds, lifetime.seconds),
    windowSeconds: lifetime.seconds,
    windowEnd: now + lifetime.seconds
  }
}

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

    record.bootstrap(bootstrap.ref)
    const api = connect(bootstrap.kc, bounds, bootstrap)
    rollbackApi = (): ClusterApi =>
      connect(bootstrap.kc, rollbackBounds(), bootstrap)
    const issuedAt = Math.floor(Date.now() / 1000)
    const renewal = planRenewal(
      inputs,
      lifetime,
      bootstrap.ref.source,
      issuedAt
    )
    const minted = await mintToken(
      api,
      { ...inputs, tokenSeconds: renewal?.tokenSeconds },
      lifetime,
      record
    )
    // With renewal, the record's expiry and lifetime are the window's: what
    // post's "held 12m of 1h" and the outputs speak of.
    record.minted({
      mintedAt: rfc3339(new Date()),
      expiration: renewal
        ? rfc3339(new Date(renewal.windowEnd * 1000))
        : rfc3339(minted.expiration),
      grantedSeconds: renewal ? renewal.windowSeconds : minted.expiresIn,
      lifetimeSource: lifetime.source,
      ...(renewal ? { renewEvery: renewal.tokenSeconds } : {})
    })
    logMint(lifetime, minted, renewal)

    const cluster = currentCluster(bootstrap.kc)
    // The proof runs with the first token itself, in memory.
    const content = kubeconfig.serialiseKubeconfig(
      kubeconfig.buildKubeconfig(cluster, minted.token, inputs.namespace)
    )
    const request = proofRequest(inputs, minted.username)
    const proof = await proveToken(content, request, bounds)
    await writeMainSummary(mintFacts(inputs, lifetime, minted, renewal), proof)
    if (proof) enforceProof(proof, request)

    const dir = record.kubeconfigDir(kubeconfig.newKubeconfigDir(runnerTemp))
    // With renewal the file holds no token: its user runs the helper, which
    // reads the cache beside it.
    const file = kubeconfig.writeKubeconfig(
      dir,
      renewal
        ? kubeconfig.serialiseKubeconfig(
            kubeconfig.buildKubeconfigFor(
              cluster,
              execUser(process.execPath, credentialHelper(), dir),
              inputs.namespace
            )
          )
        : content
    )
    if (renewal) writeRenewal(dir, inputs, renewal, cluster, minted, issuedAt)
    record.kubeconfigFile(file)
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
