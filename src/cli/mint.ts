import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { fileURLToPath } from 'node:url'
import { rollBack } from '../core/cleanup.js'
import { currentCluster } from '../core/kube/bootstrap/index.js'
import {
  planWindow,
  renewingKubeconfig,
  writeRenewalBeside,
  type RenewalPlan
} from '../core/renewal-plan.js'
import type { RenewalBootstrap } from '../core/renewal/state.js'
import type { MintedToken } from '../core/token/token-request.js'
import { ActionError, InputError, errorMessage } from '../core/errors.js'
import type { ClusterApi } from '../core/kube/cluster-api.js'
import { mainBounds } from '../core/kube/deadline.js'
import { rfc3339 } from '../core/kube/formats.js'
import { mintAndProve, writeOwnKubeconfig } from '../core/mint-flow.js'
import { enforceProof } from '../core/proof/prove-token.js'
import { redact } from '../core/masking.js'
import { host } from '../core/ports.js'
import { RunRecord, type StateExpectations } from '../core/run-record.js'
import { formatDuration } from '../core/token/duration.js'
import { decideCliLifetime } from './deadline.js'
import { EXIT } from './exit-codes.js'
import { flagWords } from './flag-words.js'
import type { IdentityChoice, MintOptions } from './flags.js'
import { useCliHost } from './host.js'
import { openIdentity, withholdCredentialsFromChildren } from './identity.js'
import { nameScope } from './naming.js'
import { StateFile } from './state-file.js'

/** The proof failed: the token was minted, and the rollback revoked it. */
class ProofFailed extends ActionError {}

/** What the expectations of revoke are, from mint's own flags: for the rollback's checks. */
function expectationsOf(
  options: MintOptions,
  env: NodeJS.ProcessEnv,
  oidc: StateExpectations['bootstrap']['oidc']
): StateExpectations {
  return {
    namespace: options.namespace,
    runnerTemp: options.dir,
    bootstrap: {
      kubeconfigInput: false,
      context:
        options.identity.kind === 'kubeconfig' ? options.identity.context : '',
      ...(oidc ? { oidc } : {})
    },
    env,
    nameScope: nameScope(env)
  }
}

/**
 * How the credential helper renews, from the CLI's identity: the flags
 * refused every other one before anything was sent.
 */
function renewalBootstrap(identity: IdentityChoice): RenewalBootstrap {
  if (identity.kind === 'env')
    return { kind: 'env', variable: identity.variable }
  if (identity.kind === 'github')
    return { kind: 'oidc', audience: identity.audience }
  if (identity.kind === 'in-cluster') return { kind: 'in-cluster' }
  throw new InputError(
    `Flag --renew-every needs an identity the credential helper can use again: use --oidc-token-env VAR, --identity github or --identity in-cluster.`
  )
}

/**
 * dist/credential.js beside the running dist/cli.js: the helper the
 * renewing kubeconfig runs, by its absolute path.
 */
function credentialHelper(): string {
  const file = path.join(
    path.dirname(fileURLToPath(import.meta.url)),
    'credential.js'
  )
  if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) {
    throw new ActionError(
      `The credential helper (credential.js beside the CLI's cli.js) is missing, so --renew-every cannot work: reinstall the package, or remove --renew-every.`
    )
  }
  return file
}

/** The renewal files beside the kubeconfig, with the same core writer as the action. */
function writeCliRenewal(
  dir: string,
  options: MintOptions,
  renewal: RenewalPlan,
  cluster: ReturnType<typeof currentCluster>,
  minted: MintedToken
): void {
  writeRenewalBeside(dir, options, renewal, cluster, minted, {
    renewEvery: '--renew-every',
    dirFrom: 'the --dir directory'
  })
}

/** The kubeconfig's directory must exist: the CLI makes only its own directory inside it. */
function checkDir(dir: string): void {
  let stat: fs.Stats
  try {
    stat = fs.statSync(dir)
  } catch (error) {
    const code = (error as { code?: string }).code ?? 'unknown error'
    throw new InputError(
      `Flag --dir names a directory that cannot be used (${code}): give an existing directory that only this job can write, outside anything your CI uploads as artifacts.`
    )
  }
  if (!stat.isDirectory()) {
    throw new InputError(
      `Flag --dir names something that is not a directory: give an existing directory for the kubeconfig.`
    )
  }
}

/**
 * `ephemeral-scan-token mint`: the action's main step for any CI. Prints
 * one JSON object on stdout (never the token) and returns the exit code.
 * A failure anywhere rolls back what was made, and the state file goes too
 * unless something is left for revoke.
 */
export async function mint(
  options: MintOptions,
  env: NodeJS.ProcessEnv = process.env
): Promise<number> {
  checkDir(options.dir)
  const statePath =
    options.state ??
    path.join(
      options.dir,
      `ephemeral-scan-token-${randomBytes(12).toString('hex')}.state.json`
    )
  const stateFile = StateFile.create(statePath)
  useCliHost(
    env,
    stateFile,
    options.identity.kind === 'env' ? options.identity.variable : undefined
  )
  const record = new RunRecord()
  const bounds = mainBounds()
  let rollbackApi: (() => ClusterApi) | undefined
  let expected: StateExpectations | undefined
  try {
    const bootstrap = await openIdentity(options.identity, bounds, env)
    withholdCredentialsFromChildren(options.identity, env)
    expected = expectationsOf(
      options,
      env,
      bootstrap.ref.source.kind === 'oidc' && bootstrap.ref.server
        ? {
            audience: bootstrap.ref.source.audience,
            server: bootstrap.ref.server
          }
        : undefined
    )
    const lifetime = decideCliLifetime(
      options.duration,
      options.maxDurationSeconds,
      options.deadline,
      env
    )
    if (lifetime.warning) host().warning(redact(lifetime.warning))
    const renewal =
      options.renewEverySeconds === undefined
        ? undefined
        : planWindow(
            options.renewEverySeconds,
            lifetime,
            renewalBootstrap(options.identity),
            Math.floor(Date.now() / 1000)
          )
    // Before anything is made: without the helper nothing can renew.
    const helper = renewal ? credentialHelper() : undefined
    const done = await mintAndProve(
      bootstrap,
      {
        serviceAccount: options.serviceAccount,
        namespace: options.namespace,
        audiences: options.audiences,
        bindTo: options.bindTo,
        nameScope: nameScope(env)
      },
      {
        verify: options.verify,
        expectAllowed: options.expectAllowed,
        expectDenied: options.expectDenied,
        excessPrivilege: options.excessPrivilege
      },
      lifetime,
      record,
      bounds,
      {
        connected: (api) => {
          rollbackApi = api
        },
        announce: (minted) => {
          host().info(
            `Minted a token for ${minted.username} (${lifetime.reason}).`
          )
          host().info(`Bound to: ${minted.boundTo}.`)
          host().info(
            `Expires at ${rfc3339(minted.expiration)} (in ${formatDuration(minted.expiresIn)}).`
          )
          host().info(
            `credential-id (jti, as the audit log records it): ${minted.credentialId}`
          )
        }
      },
      renewal
    )
    if (done.proof) {
      try {
        enforceProof(done.proof, done.proofRequest)
      } catch (error) {
        throw new ProofFailed(errorMessage(error))
      }
    }
    // The proof ran with the first token in memory; with renewal the file
    // holds none: its user runs the helper, which reads the cache beside it.
    const cluster = currentCluster(bootstrap.kc)
    const file = writeOwnKubeconfig(
      record,
      options.dir,
      renewal && helper
        ? (dir: string): string =>
            renewingKubeconfig(cluster, helper, dir, options.namespace)
        : done.content,
      nameScope(env)
    )
    if (renewal) {
      writeCliRenewal(
        path.dirname(file),
        options,
        renewal,
        cluster,
        done.minted
      )
    }
    stateFile.close()
    host().info(
      `Kubeconfig: ${file}; revoke with: ephemeral-scan-token revoke --state ${stateFile.path}`
    )
    process.stdout.write(
      `${JSON.stringify({
        kubeconfig: file,
        state: stateFile.path,
        // With renewal, the window's: each token lives tokenLifetime.
        expiration: renewal
          ? rfc3339(new Date(renewal.windowEnd * 1000))
          : rfc3339(done.minted.expiration),
        expiresIn: renewal ? renewal.windowSeconds : done.minted.expiresIn,
        ...(renewal ? { tokenLifetime: done.minted.expiresIn } : {}),
        credentialId: done.minted.credentialId,
        serviceAccount: done.minted.username,
        lifetimeSource: lifetime.source
      })}\n`
    )
    return EXIT.ok
  } catch (error) {
    const report = await rollBack(record, rollbackApi, expected)
    for (const { line, undid } of report.done) {
      host().info(flagWords(undid ? `Rolled back: ${line}` : line))
    }
    for (const problem of report.problems)
      host().warning(flagWords(redact(problem)))
    if (Object.keys(record.current).length === 0) stateFile.remove()
    else {
      stateFile.close()
      host().info(
        `Something may be left: run 'ephemeral-scan-token revoke --state ${stateFile.path}' with the same identity.`
      )
    }
    process.stderr.write(`${flagWords(redact(errorMessage(error)))}\n`)
    // 2, 3 and 4 say nothing is left: only when the rollback said so too.
    if (report.problems.length > 0) return EXIT.leftBehind
    if (error instanceof InputError) return EXIT.badInput
    if (error instanceof ProofFailed) return EXIT.proofFailed
    if (error instanceof ActionError) return EXIT.couldNotMint
    return EXIT.unexpected
  }
}
