import * as core from '@actions/core'
import { InputError, quoted } from '../core/errors.js'
import { parseChecks } from '../core/proof/can-i-lines.js'
import type { AccessCheck } from '../core/kube/token-api.js'
import type { StateExpectations } from '../core/run-record.js'
import { MIN_SECONDS, type DurationRequest } from '../core/token/lifetime.js'
import { parseDuration } from '../core/token/duration.js'
import type { BindTo } from '../core/token/token-request.js'
import type { ExcessPrivilegeMode } from '../core/proof/prove-token.js'
import {
  checkNamespace,
  checkObjectName,
  checkPodExtension,
  parseBindTo,
  parseCaData,
  parseDurationInput,
  parseExcessPrivilege,
  parseList,
  parseMaxDuration,
  parseServer
} from '../core/values.js'

// The tests read the list parser where the action's inputs use it.
export { parseList }
import type { OidcInput } from '../core/kube/bootstrap/oidc.js'

/**
 * The input job-timeout-minutes: empty means "read it from the workflow";
 * otherwise a positive number of minutes, as `timeout-minutes` takes.
 */
export function parseJobTimeoutMinutes(raw: string): number | undefined {
  const value = raw.trim()
  if (value === '') return undefined
  const minutes = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN
  if (!(minutes > 0)) {
    throw new InputError(
      `Input 'job-timeout-minutes' is '${raw}', which is not a positive number of minutes: give the job's timeout-minutes, such as 30, or leave it empty.`
    )
  }
  return minutes
}

/** Every input of the main step, parsed and validated. */
export interface Inputs {
  serviceAccount: string
  namespace: string
  duration: DurationRequest
  maxDurationSeconds: number
  audiences: string[]
  bindTo: BindTo
  /** Bootstrap kubeconfig content; '' means: find one on the runner. */
  kubeconfig: string
  context: string
  /** Set when 'oidc-audience', 'server' and 'certificate-authority-data' are given. */
  oidc?: OidcInput
  exportKubeconfig: boolean
  cleanup: boolean
  outputToken: boolean
  /** Confirm the token's identity with SelfSubjectReview. */
  verify: boolean
  expectAllowed: AccessCheck[]
  expectDenied: AccessCheck[]
  excessPrivilege: ExcessPrivilegeMode
  /** For `duration: auto`: reads the job through the GitHub API; a credential. */
  githubToken: string
  /** The runner's `job` context as JSON (the input's default passes it). */
  jobContext: string
  /** The job's timeout-minutes when the workflow cannot be read. */
  jobTimeoutMinutes: number | undefined
  /** `renew-every` in seconds: each token's lifetime; undefined = no renewal. */
  renewEverySeconds: number | undefined
}

function input(name: string): string {
  return core.getInput(name).trim()
}

function booleanInput(name: string, fallback: boolean): boolean {
  const raw = input(name)
  if (raw === '') return fallback
  if (['true', 'True', 'TRUE'].includes(raw)) return true
  if (['false', 'False', 'FALSE'].includes(raw)) return false
  throw new InputError(
    `Input '${name}' is ${quoted(raw)}, which is not a boolean: use true or false.`
  )
}

/**
 * `renew-every`: empty (no renewal) or a duration of at least 10m, with a
 * bootstrap a later step can use again without a stored credential (the
 * OIDC inputs, or in-cluster, checked once the source is known) and the
 * per-run Secret every renewed token is bound to, so post's one delete
 * revokes them all.
 */
function parseRenewEvery(
  raw: string,
  kubeconfig: string,
  bindTo: BindTo,
  outputToken: boolean
): number | undefined {
  if (raw === '') return undefined
  const seconds = parseDuration('renew-every', raw)
  if (seconds < MIN_SECONDS) {
    throw new InputError(
      `Input 'renew-every' is ${quoted(raw)}, but the API server's minimum ` +
        `token lifetime is 600s (10m): set 'renew-every' to 10m or more, or ` +
        `leave it empty for one token that lasts the job.`
    )
  }
  if (kubeconfig.trim() !== '') {
    throw new InputError(RENEW_NEEDS_REUSABLE_BOOTSTRAP)
  }
  if (bindTo.kind !== 'secret') {
    throw new InputError(
      `Input 'renew-every' needs 'bind-to: secret', because the per-run ` +
        `Secret is what revokes every renewed token at once in the post ` +
        `step: remove 'bind-to' or 'renew-every'.`
    )
  }
  if (outputToken) {
    throw new InputError(
      `Inputs 'renew-every' and 'output-token' are exclusive: the 'token' ` +
        `output would be only the first token, which stops working after ` +
        `'renew-every', so use the kubeconfig (it renews) or remove 'renew-every'.`
    )
  }
  return seconds
}

/**
 * Why `renew-every` refuses a stored kubeconfig (the input, KUBECONFIG or
 * ~/.kube/config): every renewal in a later step would need that credential
 * again, and the action never leaves a long-lived credential on disk.
 */
export const RENEW_NEEDS_REUSABLE_BOOTSTRAP =
  `Input 'renew-every' cannot renew with a stored kubeconfig, because ` +
  `every renewal in a later step would need that long-lived credential on ` +
  `disk: use the OIDC inputs ('oidc-audience', 'server', ` +
  `'certificate-authority-data') or run the job on a runner pod in the ` +
  `cluster, or remove 'renew-every'.`

const OIDC_INPUTS = [
  'oidc-audience',
  'server',
  'certificate-authority-data'
] as const

/**
 * The OIDC bootstrap inputs: all three or none, and never together with a
 * stored kubeconfig (which of the two would mint must not be a guess).
 */
function parseOidc(kubeconfig: string, context: string): OidcInput | undefined {
  const raw = Object.fromEntries(
    OIDC_INPUTS.map((name) => [name, input(name)])
  ) as Record<(typeof OIDC_INPUTS)[number], string>
  const given = OIDC_INPUTS.filter((name) => raw[name] !== '')
  if (given.length === 0) return undefined
  if (kubeconfig.trim() !== '') {
    throw new InputError(
      `Inputs 'kubeconfig' and '${given[0] ?? ''}' are exclusive: mint either ` +
        `with the stored kubeconfig or with the job's GitHub ID token ` +
        `('oidc-audience', 'server', 'certificate-authority-data'), so remove one.`
    )
  }
  const missing = OIDC_INPUTS.filter((name) => raw[name] === '')
  if (missing.length > 0) {
    const list = (names: readonly string[]): string =>
      names.map((name) => `'${name}'`).join(' and ')
    const several = missing.length > 1
    throw new InputError(
      `Input${several ? 's' : ''} ${list(missing)} ${several ? 'are' : 'is'} ` +
        `missing: the OIDC bootstrap needs 'oidc-audience', 'server' and ` +
        `'certificate-authority-data' together, so set ${several ? 'them' : 'it'} ` +
        `or remove ${list(given)}.`
    )
  }
  if (context !== '') {
    throw new InputError(
      `Input 'context' picks a context of a bootstrap kubeconfig, and the OIDC ` +
        `bootstrap has none: remove 'context'.`
    )
  }
  return {
    audience: raw['oidc-audience'],
    server: parseServer(raw.server),
    caData: parseCaData(raw['certificate-authority-data'])
  }
}

/** Read and validate every input of the main step; throws InputError. */
export function getInputs(): Inputs {
  const serviceAccount = input('service-account')
  if (serviceAccount === '') {
    throw new InputError(
      `Input 'service-account' is required: set it to the name of the ` +
        `ServiceAccount the token is for.`
    )
  }
  const maxDurationSeconds = parseMaxDuration(input('max-duration'))
  const namespace = checkNamespace('namespace', input('namespace') || 'default')
  const duration = parseDurationInput(input('duration'), maxDurationSeconds)
  const bindTo = parseBindTo(input('bind-to'))
  checkPodExtension(bindTo, duration, maxDurationSeconds)
  const cleanup = booleanInput('cleanup', true)
  if (!cleanup && bindTo.kind === 'secret') {
    // Only post deletes the per-run Secret, and Secrets never expire.
    throw new InputError(
      `Input 'cleanup' is false, but with 'bind-to: secret' (the default) ` +
        `that would leave the per-run Secret in the cluster forever: set ` +
        `'bind-to: none' to keep a token that simply expires, or keep ` +
        `'cleanup: true'.`
    )
  }
  // Content keeps its own whitespace: YAML is indentation-sensitive.
  const kubeconfig = getKubeconfigInput()
  const context = input('context')
  const oidc = parseOidc(kubeconfig, context)
  const outputToken = booleanInput('output-token', false)
  const renewEverySeconds = parseRenewEvery(
    input('renew-every'),
    kubeconfig,
    bindTo,
    outputToken
  )
  return {
    serviceAccount: checkObjectName(
      'service-account',
      serviceAccount,
      'ServiceAccount'
    ),
    namespace,
    duration,
    maxDurationSeconds,
    audiences: parseList(core.getInput('audiences')),
    bindTo,
    kubeconfig,
    context,
    ...(oidc ? { oidc } : {}),
    exportKubeconfig: booleanInput('export-kubeconfig', true),
    cleanup,
    outputToken,
    verify: booleanInput('verify', true),
    expectAllowed: parseChecks(
      'expect-allowed',
      core.getInput('expect-allowed'),
      namespace
    ),
    expectDenied: parseChecks(
      'expect-denied',
      core.getInput('expect-denied'),
      namespace
    ),
    excessPrivilege: parseExcessPrivilege(input('excess-privilege')),
    githubToken: input('github-token'),
    jobContext: input('job-context'),
    jobTimeoutMinutes: parseJobTimeoutMinutes(input('job-timeout-minutes')),
    renewEverySeconds
  }
}

/**
 * Credentials the runner hands this step in its environment. Exec credential
 * plugins (and auth-provider commands) run as our children and inherit the
 * whole environment, so once these are read they leave process.env.
 */
const CREDENTIAL_VARIABLES = [
  'INPUT_KUBECONFIG',
  'INPUT_GITHUB-TOKEN',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
  'ACTIONS_RUNTIME_TOKEN'
] as const

/** Call after the inputs and the ID token were read, before any request. */
export function withholdCredentialsFromChildren(
  env: NodeJS.ProcessEnv = process.env
): void {
  for (const name of CREDENTIAL_VARIABLES) Reflect.deleteProperty(env, name)
}

/** The post step only needs to know whether to clean up at all. */
export function getCleanupInput(): boolean {
  return booleanInput('cleanup', true)
}

/**
 * What post checks main's saved record against: the inputs post gets too
 * (the same as main's), never the record itself. The namespace is
 * undefined when the input is not a valid one (main then made nothing).
 */
export function getPostExpectations(
  env: NodeJS.ProcessEnv = process.env
): StateExpectations {
  let namespace: string | undefined
  try {
    namespace = checkNamespace('namespace', input('namespace') || 'default')
  } catch {
    namespace = undefined
  }
  const audience = input('oidc-audience')
  const server = input('server')
  return {
    namespace,
    runnerTemp: env.RUNNER_TEMP ?? '',
    bootstrap: {
      kubeconfigInput: getKubeconfigInput().trim() !== '',
      context: input('context'),
      oidc: audience && server ? { audience, server } : undefined
    },
    env
  }
}

/** The same expectations from main's validated inputs, for its rollback. */
export function mainExpectations(
  inputs: Inputs,
  runnerTemp: string
): StateExpectations {
  return {
    namespace: inputs.namespace,
    runnerTemp,
    bootstrap: {
      kubeconfigInput: inputs.kubeconfig.trim() !== '',
      context: inputs.context,
      oidc: inputs.oidc && {
        audience: inputs.oidc.audience,
        server: inputs.oidc.server
      }
    }
  }
}

/**
 * The bootstrap kubeconfig content, exactly as given: YAML is
 * indentation-sensitive, so a first line that is indented must keep its
 * spaces (core.getInput trims by default).
 */
export function getKubeconfigInput(): string {
  return core.getInput('kubeconfig', { trimWhitespace: false })
}

/**
 * The CA data, as post re-reads it for the OIDC bootstrap (the audience and
 * server come from main's saved state); throws InputError.
 */
export function getCaDataInput(): string {
  return parseCaData(input('certificate-authority-data'))
}
