import * as os from 'node:os'
import * as path from 'node:path'
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { InputError, hasUnprintable, quoted } from '../core/errors.js'
import { parseChecks } from '../core/proof/can-i-lines.js'
import type { AccessCheck } from '../core/kube/token-api.js'
import type { ExcessPrivilegeMode } from '../core/proof/prove-token.js'
import { ENV_VARIABLE } from '../core/renewal/state.js'
import { parseDuration } from '../core/token/duration.js'
import { MIN_SECONDS, type DurationRequest } from '../core/token/lifetime.js'
import type { BindTo } from '../core/token/token-request.js'
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
import { flagWords } from './flag-words.js'
import { onBuildkiteAgent, onGitHubRunner } from './host.js'
import type { DeadlineProvider } from './deadline.js'

type Options = NonNullable<ParseArgsConfig['options']>

/** The flags both commands take to name the identity that mints or revokes. */
const IDENTITY_FLAGS: Options = {
  identity: { type: 'string' },
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  'oidc-token-env': { type: 'string' },
  'oidc-audience': { type: 'string' },
  server: { type: 'string' },
  'certificate-authority-data': { type: 'string' },
  namespace: { type: 'string' },
  dir: { type: 'string' },
  state: { type: 'string' },
  help: { type: 'boolean' }
}

const MINT_FLAGS: Options = {
  ...IDENTITY_FLAGS,
  'service-account': { type: 'string' },
  duration: { type: 'string' },
  'max-duration': { type: 'string' },
  deadline: { type: 'string' },
  'bind-to': { type: 'string' },
  audiences: { type: 'string', multiple: true },
  verify: { type: 'string' },
  'expect-allowed': { type: 'string', multiple: true },
  'expect-denied': { type: 'string', multiple: true },
  'excess-privilege': { type: 'string' },
  'renew-every': { type: 'string' }
}

const REVOKE_FLAGS: Options = IDENTITY_FLAGS

/** A flag's name as a sentence may repeat it: only what a flag name can hold. */
function flagName(arg: string): string {
  const name = arg.replace(/=.*$/s, '')
  return /^--?[A-Za-z0-9-]{1,40}$/.test(name) ? `'${name}'` : 'a flag'
}

/**
 * Node's parseArgs, strictly, with every refusal as one sentence that never
 * repeats a value (a value in the wrong place may be a credential). A flag
 * given twice is refused too, unless it is one that collects lines.
 */
function parse(
  command: string,
  args: string[],
  options: Options
): Record<string, string | string[] | boolean | undefined> {
  const help = `run 'ephemeral-scan-token ${command} --help' for the flags it takes`
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({
      args,
      options,
      strict: true,
      allowPositionals: false,
      tokens: true
    })
  } catch (error) {
    const code = (error as { code?: string }).code
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      const unknown = args.find(
        (arg) =>
          arg.startsWith('-') &&
          !Object.hasOwn(options, arg.replace(/^--?/, '').replace(/=.*$/s, ''))
      )
      throw new InputError(
        `The ${command} command has no flag ${flagName(unknown ?? '')}: ${help}.`
      )
    }
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      throw new InputError(
        `The ${command} command takes only flags, and was given a word that is not one (a value without its flag, or a flag with one dash too few): ${help}.`
      )
    }
    // A missing value, or a value where none is taken: the message names
    // the flag as '--name', which is safe to repeat once checked.
    const named = /'(--[a-z-]+)/.exec((error as Error).message)?.[1]
    const known = named && Object.hasOwn(options, named.slice(2))
    throw new InputError(
      `Flag ${known ? named : 'one of the flags'} is given without its value, or with one it does not take (a value that starts with '-' needs the form --flag=VALUE): ${help}.`
    )
  }
  const seen = new Set<string>()
  for (const token of parsed.tokens ?? []) {
    if (token.kind !== 'option') continue
    const spec = options[token.name]
    if (spec?.multiple) continue
    if (seen.has(token.name)) {
      throw new InputError(
        `Flag --${token.name} is given more than once: give it once, so that which value counts is never a guess.`
      )
    }
    seen.add(token.name)
  }
  return parsed.values as Record<
    string,
    string | string[] | boolean | undefined
  >
}

/** How the bootstrap identity is given. */
export type IdentityChoice =
  /** A kubeconfig file, or KUBECONFIG, ~/.kube/config, in-cluster in that order. */
  | { kind: 'kubeconfig'; file?: string; context: string }
  | { kind: 'in-cluster' }
  /** An ID token in an environment variable (GitLab `id_tokens:`). */
  | { kind: 'env'; variable: string; server: string; caData: string }
  /** `buildkite-agent oidc request-token --audience …`. */
  | { kind: 'buildkite'; audience: string; server: string; caData: string }
  /** GitHub Actions' ID-token endpoint (ACTIONS_ID_TOKEN_REQUEST_*). */
  | { kind: 'github'; audience: string; server: string; caData: string }

interface CommonOptions {
  identity: IdentityChoice
  namespace: string
  /** The directory the kubeconfig directory is made in (absolute). */
  dir: string
}

export interface MintOptions extends CommonOptions {
  serviceAccount: string
  duration: DurationRequest
  maxDurationSeconds: number
  deadline: DeadlineProvider
  audiences: string[]
  bindTo: BindTo
  verify: boolean
  expectAllowed: AccessCheck[]
  expectDenied: AccessCheck[]
  excessPrivilege: ExcessPrivilegeMode
  /** Where to write the state file; a fresh name in `dir` when not given. */
  state?: string
  /** `--renew-every` in seconds: each token's lifetime; undefined = no renewal. */
  renewEverySeconds?: number
}

export interface RevokeOptions extends CommonOptions {
  state: string
}

/** Every core sentence about a value, in flag words. */
function asFlags<T>(check: () => T): T {
  try {
    return check()
  } catch (error) {
    if (error instanceof InputError)
      throw new InputError(flagWords(error.message))
    throw error
  }
}

function text(
  values: Record<string, unknown>,
  name: string
): string | undefined {
  const value = values[name]
  return typeof value === 'string' ? value : undefined
}

/**
 * The directory the kubeconfig goes in: --dir, else the runner's temporary
 * directory on GitHub Actions, else the system's (TMPDIR): never the
 * project directory, whose files a CI may upload as artifacts.
 */
export function defaultDir(env: NodeJS.ProcessEnv): string {
  if (onGitHubRunner(env) && env.RUNNER_TEMP) return env.RUNNER_TEMP
  return os.tmpdir()
}

/** The same names the helper's renewal.json accepts for --renew-every. */
const ENV_NAME = ENV_VARIABLE

function idTokenTarget(
  values: Record<string, unknown>,
  why: string
): {
  server: string
  caData: string
} {
  const server = text(values, 'server')
  const caData = text(values, 'certificate-authority-data')
  const missing = [
    server === undefined ? '--server' : '',
    caData === undefined ? '--certificate-authority-data' : ''
  ].filter(Boolean)
  if (missing.length > 0) {
    throw new InputError(
      `Flag${missing.length > 1 ? 's' : ''} ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} missing: ${why} needs the API server's https:// address (--server) and its CA (--certificate-authority-data), so give both.`
    )
  }
  return asFlags(() => ({
    server: parseServer(server ?? ''),
    caData: parseCaData(caData ?? '')
  }))
}

function audienceOf(values: Record<string, unknown>, who: string): string {
  const audience = text(values, 'oidc-audience')?.trim() ?? ''
  if (audience === '' || /[\s,]/.test(audience)) {
    throw new InputError(
      `Flag --oidc-audience is ${audience === '' ? 'missing' : 'not one audience'}: ${who} needs the one audience the API server's JWT authenticator expects, such as --oidc-audience ephemeral-scan-token.`
    )
  }
  return audience
}

/**
 * The identity: chosen with --identity, or detected, cosign-style, from
 * the flags and the CI system: --oidc-token-env means that variable,
 * --kubeconfig that file; --server (an ID-token bootstrap) on Buildkite
 * means its agent and on GitHub Actions its ID-token endpoint; otherwise a
 * kubeconfig from KUBECONFIG, ~/.kube/config or the in-cluster
 * ServiceAccount. Every combination that leaves which identity mints to a
 * guess is refused.
 */
export function chooseIdentity(
  values: Record<string, unknown>,
  env: NodeJS.ProcessEnv
): IdentityChoice {
  const kubeconfig = text(values, 'kubeconfig')
  const context = text(values, 'context') ?? ''
  const tokenEnv = text(values, 'oidc-token-env')
  const idTokenFlags = [
    'oidc-token-env',
    'oidc-audience',
    'server',
    'certificate-authority-data'
  ].filter((name) => text(values, name) !== undefined)
  let identity = text(values, 'identity')
  if (identity === undefined) {
    if (tokenEnv !== undefined) identity = `env:${tokenEnv}`
    else if (kubeconfig !== undefined) identity = 'kubeconfig'
    else if (idTokenFlags.length > 0) {
      if (onBuildkiteAgent(env)) identity = 'buildkite'
      else if (onGitHubRunner(env)) identity = 'github'
      else {
        throw new InputError(
          `Flag --${idTokenFlags[0] ?? 'server'} asks for an ID-token bootstrap, but no ID-token provider was found (not Buildkite, not GitHub Actions): give --oidc-token-env VAR (for GitLab, the variable id_tokens: sets) or choose one with --identity.`
        )
      }
    } else identity = 'kubeconfig'
  }
  if (
    !['kubeconfig', 'in-cluster', 'buildkite', 'github'].includes(identity) &&
    !identity.startsWith('env:')
  ) {
    throw new InputError(
      `Flag --identity is ${quoted(identity, 40)}, which is not supported: use kubeconfig, in-cluster, env:VARIABLE, buildkite or github.`
    )
  }
  if (identity === 'kubeconfig' || identity === 'in-cluster') {
    if (idTokenFlags.length > 0) {
      throw new InputError(
        `Flags --${identity === 'kubeconfig' && kubeconfig !== undefined ? 'kubeconfig' : `identity ${identity}`} and --${idTokenFlags[0] ?? ''} are exclusive: mint either with a kubeconfig or with an ID token (--oidc-token-env or --oidc-audience, with --server and --certificate-authority-data), so remove one.`
      )
    }
    if (identity === 'in-cluster') {
      if (kubeconfig !== undefined || context !== '') {
        throw new InputError(
          `Flag --identity in-cluster uses the pod's ServiceAccount, which has no kubeconfig or context: remove --${kubeconfig !== undefined ? 'kubeconfig' : 'context'}.`
        )
      }
      return { kind: 'in-cluster' }
    }
    if (kubeconfig === '') {
      throw new InputError(
        `Flag --kubeconfig is empty: give the path of the bootstrap kubeconfig file, or leave the flag out to use KUBECONFIG.`
      )
    }
    return {
      kind: 'kubeconfig',
      ...(kubeconfig !== undefined ? { file: path.resolve(kubeconfig) } : {}),
      context
    }
  }
  for (const [name, given] of [
    ['kubeconfig', kubeconfig !== undefined],
    ['context', context !== '']
  ] as const) {
    if (given) {
      throw new InputError(
        `Flag --${name} belongs to a kubeconfig bootstrap, and the ID-token bootstrap (${identity.startsWith('env:') ? 'env' : identity}) has none: remove --${name}.`
      )
    }
  }
  if (identity.startsWith('env:')) {
    const variable = identity.slice(4)
    if (!ENV_NAME.test(variable)) {
      throw new InputError(
        `The environment variable named for the ID token is not a variable name: give --oidc-token-env NAME (letters, digits and '_'), such as the name your GitLab job's id_tokens: sets.`
      )
    }
    if (tokenEnv !== undefined && tokenEnv !== variable) {
      throw new InputError(
        `Flags --identity env:… and --oidc-token-env name different variables: give one of them.`
      )
    }
    if (text(values, 'oidc-audience') !== undefined) {
      throw new InputError(
        `Flag --oidc-audience has no use with an ID token from a variable, whose audience was set where it was issued (GitLab: id_tokens: aud): remove --oidc-audience.`
      )
    }
    return {
      kind: 'env',
      variable,
      ...idTokenTarget(values, `the ID token in ${variable}`)
    }
  }
  if (identity === 'buildkite' || identity === 'github') {
    const who =
      identity === 'buildkite'
        ? "Buildkite's agent"
        : "GitHub's ID-token endpoint"
    return {
      kind: identity,
      audience: audienceOf(values, who),
      ...idTokenTarget(values, who)
    }
  }
  throw new InputError(
    `Flag --identity is ${quoted(identity, 40)}, which is not supported: use kubeconfig, in-cluster, env:VARIABLE, buildkite or github.`
  )
}

function common(
  values: Record<string, unknown>,
  env: NodeJS.ProcessEnv
): CommonOptions {
  const namespace = asFlags(() =>
    checkNamespace('namespace', text(values, 'namespace') ?? 'default')
  )
  const dir = text(values, 'dir')
  if (dir === '') {
    throw new InputError(
      `Flag --dir is empty: give an existing directory for the kubeconfig, or leave the flag out for the system's temporary directory.`
    )
  }
  const resolved = path.resolve(dir ?? defaultDir(env))
  noControlCharacters('dir', resolved)
  return {
    identity: chooseIdentity(values, env),
    namespace,
    dir: resolved
  }
}

/**
 * The CLI prints the paths of --dir and --state (its output, the revoke
 * line): one with a line break or another control character could forge
 * lines of the job log, so it is refused before anything is made.
 */
function noControlCharacters(name: 'dir' | 'state', value: string): void {
  if (hasUnprintable(value)) {
    throw new InputError(
      `Flag --${name} holds a control character (such as a line break): give a plain path${name === 'dir' ? ' (or, without the flag, a TMPDIR without one)' : ''}.`
    )
  }
}

function booleanFlag(values: Record<string, unknown>, name: string): boolean {
  const raw = text(values, name)
  if (raw === undefined || raw === 'true') return true
  if (raw === 'false') return false
  throw new InputError(
    `Flag --${name} is ${quoted(raw, 40)}, which is not a boolean: use --${name}=true or --${name}=false.`
  )
}

/**
 * `--renew-every`: at least 10m (the API server's minimum), with an
 * identity the credential helper can use again in kubectl's environment
 * without a stored credential, and the per-run Secret that revokes every
 * renewed token at once.
 */
function parseRenewEvery(
  raw: string | undefined,
  identity: IdentityChoice,
  bindTo: BindTo
): number | undefined {
  if (raw === undefined) return undefined
  const seconds = asFlags(() => parseDuration('renew-every', raw))
  if (seconds < MIN_SECONDS) {
    throw new InputError(
      `Flag --renew-every is ${quoted(raw, 40)}, but the API server's minimum token lifetime is 600s (10m): give 10m or more, or leave it out for one token that lasts the job.`
    )
  }
  if (identity.kind === 'kubeconfig') {
    throw new InputError(
      `Flag --renew-every needs an identity kubectl's credential helper can use again without a stored credential, and a kubeconfig is one: use --oidc-token-env VAR (GitLab id_tokens:), --identity github or --identity in-cluster, or remove --renew-every.`
    )
  }
  if (identity.kind === 'buildkite') {
    throw new InputError(
      `Flag --renew-every cannot renew with Buildkite's agent, whose access token is not in kubectl's environment: remove --renew-every and size --duration to the job.`
    )
  }
  if (bindTo.kind !== 'secret') {
    throw new InputError(
      `Flag --renew-every needs --bind-to secret, because the per-run Secret is what revokes every renewed token at once: remove --bind-to or --renew-every.`
    )
  }
  return seconds
}

const DEADLINES = ['auto', 'gitlab', 'buildkite', 'none'] as const

/** `mint`'s flags, parsed and checked; throws InputError before anything is sent. */
export function parseMintFlags(
  args: string[],
  env: NodeJS.ProcessEnv
): MintOptions | 'help' {
  const values = parse('mint', args, MINT_FLAGS)
  if (values.help === true) return 'help'
  const serviceAccount = text(values, 'service-account')
  if (serviceAccount === undefined || serviceAccount.trim() === '') {
    throw new InputError(
      `Flag --service-account is required: give the name of the ServiceAccount the token is for.`
    )
  }
  const options = common(values, env)
  const maxDurationSeconds = asFlags(() =>
    parseMaxDuration(text(values, 'max-duration') ?? '')
  )
  const duration = asFlags(() =>
    parseDurationInput(text(values, 'duration') ?? '', maxDurationSeconds)
  )
  const bindTo = asFlags(() => parseBindTo(text(values, 'bind-to') ?? ''))
  asFlags(() => {
    checkPodExtension(bindTo, duration, maxDurationSeconds)
  })
  const deadline = text(values, 'deadline') ?? 'auto'
  if (!(DEADLINES as readonly string[]).includes(deadline)) {
    throw new InputError(
      `Flag --deadline is ${quoted(deadline, 40)}, which is not supported: use auto (detect the CI system), gitlab, buildkite or none.`
    )
  }
  const lines = (name: string): string => {
    const value = values[name]
    return Array.isArray(value) ? value.join('\n') : ''
  }
  const state = text(values, 'state')
  if (state === '') {
    throw new InputError(
      `Flag --state is empty: give a path for the state file revoke reads, or leave the flag out for a fresh one next to the kubeconfig.`
    )
  }
  if (state !== undefined) noControlCharacters('state', state)
  const renewEverySeconds = parseRenewEvery(
    text(values, 'renew-every'),
    options.identity,
    bindTo
  )
  return {
    ...options,
    serviceAccount: asFlags(() =>
      checkObjectName(
        'service-account',
        serviceAccount.trim(),
        'ServiceAccount'
      )
    ),
    duration,
    maxDurationSeconds,
    deadline: deadline as DeadlineProvider,
    audiences: parseList(lines('audiences').replaceAll('\n', ',')),
    bindTo,
    verify: booleanFlag(values, 'verify'),
    expectAllowed: asFlags(() =>
      parseChecks('expect-allowed', lines('expect-allowed'), options.namespace)
    ),
    expectDenied: asFlags(() =>
      parseChecks('expect-denied', lines('expect-denied'), options.namespace)
    ),
    excessPrivilege: asFlags(() =>
      parseExcessPrivilege(text(values, 'excess-privilege') ?? '')
    ),
    ...(state !== undefined ? { state } : {}),
    ...(renewEverySeconds !== undefined ? { renewEverySeconds } : {})
  }
}

/** `revoke`'s flags; throws InputError. */
export function parseRevokeFlags(
  args: string[],
  env: NodeJS.ProcessEnv
): RevokeOptions | 'help' {
  const values = parse('revoke', args, REVOKE_FLAGS)
  if (values.help === true) return 'help'
  const state = text(values, 'state')
  if (state === undefined || state === '') {
    throw new InputError(
      `Flag --state is required: give the state file mint wrote (the 'state' field of its output).`
    )
  }
  noControlCharacters('state', state)
  return { ...common(values, env), state }
}
