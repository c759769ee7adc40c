import { cleanUp } from '../core/cleanup.js'
import { postBounds } from '../core/kube/deadline.js'
import { connect } from '../core/kube/cluster-api.js'
import { redact } from '../core/masking.js'
import { mintReport } from '../core/renewal/report.js'
import { host } from '../core/ports.js'
import {
  UntrustedStateError,
  verifyRunState,
  type RunState
} from '../core/run-record.js'
import { EXIT } from './exit-codes.js'
import { flagWords } from './flag-words.js'
import type { RevokeOptions } from './flags.js'
import { useCliHost } from './host.js'
import {
  expectIdentity,
  reopenIdentity,
  withholdCredentialsFromChildren,
  type IdentityExpectation
} from './identity.js'
import { nameScope } from './naming.js'
import { readStateFile } from './state-file.js'

function sameSource(
  recorded: RunState['bootstrap'],
  own: IdentityExpectation
): boolean {
  const source = recorded?.source
  if (!source || source.kind !== own.source.kind) return false
  const mine = own.source
  if (source.kind === 'files' && mine.kind === 'files') {
    return (
      source.paths.length === mine.paths.length &&
      source.paths.every((p, i) => p === mine.paths[i])
    )
  }
  return true
}

/**
 * The state file, checked as untrusted input against what revoke knows for
 * itself, never against the file: every field of its type and no other
 * (verifyRunState), the per-run Secret in revoke's --namespace with a name
 * of the CLI's pattern for this CI job and its uid, the kubeconfig
 * directory of the CLI's pattern for this job directly under revoke's
 * --dir (whether a real directory still stands there is checked when it is
 * removed), and the bootstrap identity the one revoke was given: the same
 * kubeconfig files with the same context and server, or an ID token of the
 * same audience sent to the same --server. A record naming neither an
 * identity nor a Secret is not one mint saved. mint never exports
 * KUBECONFIG, so a record that says it did is not mint's.
 */
function verify(
  value: unknown,
  options: RevokeOptions,
  own: IdentityExpectation,
  env: NodeJS.ProcessEnv
): RunState {
  const state = verifyRunState(value, {
    namespace: options.namespace,
    runnerTemp: options.dir,
    bootstrap: {
      kubeconfigInput: false,
      context:
        options.identity.kind === 'kubeconfig' ? options.identity.context : '',
      ...(own.oidc ? { oidc: own.oidc } : {})
    },
    env,
    nameScope: nameScope(env)
  })
  // mint records its identity before it makes anything, so a record with
  // neither names nothing mint made (and would let a bare directory path
  // through).
  if (!state.anchor && !state.bootstrap) {
    throw new UntrustedStateError(
      'it names neither a bootstrap identity nor a per-run Secret'
    )
  }
  if (
    own.context !== undefined &&
    (state.bootstrap?.context ?? '') !== own.context
  ) {
    throw new UntrustedStateError(
      "its bootstrap context is not revoke's (--context, else the kubeconfig's current context)"
    )
  }
  if (
    own.server !== undefined &&
    state.bootstrap &&
    state.bootstrap.server !== own.server
  ) {
    throw new UntrustedStateError(
      "its API server is not the one revoke's kubeconfig points at"
    )
  }
  // The Secret is deleted only with its uid as a precondition: a record
  // without one could aim the delete at any Secret of that name.
  if (state.anchor && !state.anchor.uid) {
    throw new UntrustedStateError("its per-run Secret's uid is missing")
  }
  if (state.previousKubeconfig !== undefined) {
    throw new UntrustedStateError(
      'it says KUBECONFIG was exported, which mint never does'
    )
  }
  if (state.bootstrap && !sameSource(state.bootstrap, own)) {
    throw new UntrustedStateError(
      'its bootstrap identity is not the one revoke was given'
    )
  }
  return state
}

/**
 * `ephemeral-scan-token revoke --state FILE`: delete the per-run Secret
 * (with its uid as a precondition: that revokes the token) and the
 * kubeconfig directory. Idempotent: what is already gone is said so; a
 * missing state file means there is nothing to revoke. Needs the identity
 * again, never a credential from the state file.
 */
export async function revoke(
  options: RevokeOptions,
  env: NodeJS.ProcessEnv = process.env
): Promise<number> {
  useCliHost(
    env,
    undefined,
    options.identity.kind === 'env' ? options.identity.variable : undefined
  )
  const read = readStateFile(options.state)
  if (read.kind === 'missing') {
    host().info(
      `No state file at ${options.state}: nothing to revoke (mint made nothing, or a revoke already finished).`
    )
    return EXIT.ok
  }
  let state: RunState
  try {
    const own = await expectIdentity(options.identity, env)
    state = verify(read.value, options, own, env)
  } catch (error) {
    if (error instanceof UntrustedStateError) {
      process.stderr.write(
        `${flagWords(error.message.replace(/\.$/, ''))}, so revoke deleted nothing: give the state file this job's mint wrote, with the same --namespace, --dir and identity flags as mint.\n`
      )
      return EXIT.stateRefused
    }
    throw error
  }
  // Read before cleanup removes the directory, as the action's post does:
  // how many tokens the renewing kubeconfig minted, only reported (the
  // Secret's delete revokes them all). mintReport never throws.
  if (state.renewEvery !== undefined && state.kubeconfigDir) {
    for (const line of mintReport(state.kubeconfigDir)) host().info(line)
  }
  const report = await cleanUp(
    state,
    async () => {
      const bounds = postBounds()
      const bootstrap = await reopenIdentity(
        options.identity,
        state.bootstrap ?? { source: { kind: 'in-cluster' }, context: '' },
        bounds,
        env
      )
      withholdCredentialsFromChildren(options.identity, env)
      return connect(bootstrap.kc, bounds, bootstrap)
    },
    { last: true }
  )
  for (const { line } of report.done) host().info(flagWords(line))
  if (report.problems.length === 0) {
    read.remove()
    return EXIT.ok
  }
  // The first problem is the sentence; the state file stays for another try.
  for (const problem of report.problems.slice(1)) {
    host().warning(flagWords(redact(problem)))
  }
  process.stderr.write(
    `${flagWords(redact(report.problems[0] ?? ''))} The state file ${options.state} is kept: run revoke again once that is fixed.\n`
  )
  return EXIT.leftBehind
}
