import * as path from 'node:path'
import { ActionError } from './errors.js'
import { host } from './ports.js'
import type { BootstrapRef, BootstrapSource } from './kube/bootstrap/index.js'
import { isRfc3339 } from './kube/formats.js'
import type { LifetimeSource } from './token/lifetime.js'
import { FILE_NAME, isOwnKubeconfigDir } from './token/kubeconfig-file.js'
import {
  isPerRunSecretName,
  type PerRunSecretRef
} from './token/per-run-secret.js'

/**
 * What main hands to post. Each field is saved *before* the thing it names
 * is created, so a main step that dies halfway still leaves post enough to
 * clean up. It never holds the token: the runner debug-logs saved state and
 * passes it to post as environment variables.
 */
export interface RunState {
  bootstrap?: BootstrapRef
  anchor?: PerRunSecretRef
  kubeconfigDir?: string
  kubeconfigPath?: string
  /** Set once main exported KUBECONFIG; null means it was unset before. */
  previousKubeconfig?: string | null
  mintedAt?: string
  expiration?: string
  /** What the API server granted, for post's "held 12m of 25m". */
  grantedSeconds?: number
  lifetimeSource?: LifetimeSource
  /**
   * With `renew-every`: each token's lifetime, seconds. `expiration` and
   * `grantedSeconds` are then the window's, and post reads the record of
   * minted tokens in the kubeconfig directory.
   */
  renewEvery?: number
}

/**
 * Main's record of what it made. Every change is saved at once, and each
 * method is named for the moment it is called: before creating, after
 * creating, or after learning that nothing was created.
 */
export class RunRecord {
  private state: RunState = {}

  /**
   * Saves the empty record at once, before main reads any input: the
   * runner hands post main's own saved state last, so it then always
   * overrides a STATE_run an earlier step planted through $GITHUB_ENV, even
   * when main fails before it makes anything.
   */
  constructor() {
    this.save()
  }

  /** A copy of what has been recorded, for rollback. */
  get current(): RunState {
    return structuredClone(this.state)
  }

  bootstrap(ref: BootstrapRef): void {
    this.state.bootstrap = ref
    this.save()
  }

  /** Before creating the per-run Secret. */
  perRunSecretPlanned(ref: PerRunSecretRef): void {
    this.state.anchor = { ...ref }
    this.save()
  }

  /** The create was answered; the uid is unknown when a retry found it made. */
  perRunSecretCreated(uid: string | undefined): void {
    if (this.state.anchor) {
      this.state.anchor.created = true
      if (uid) this.state.anchor.uid = uid
    }
    this.save()
  }

  /** The create call was refused or never connected: nothing to delete. */
  perRunSecretNotCreated(): void {
    delete this.state.anchor
    this.save()
  }

  minted(facts: {
    mintedAt: string
    expiration: string
    grantedSeconds: number
    lifetimeSource: LifetimeSource
    renewEvery?: number
  }): void {
    Object.assign(this.state, facts)
    this.save()
  }

  /** Before creating the directory; returns it for the caller's convenience. */
  kubeconfigDir(dir: string): string {
    this.state.kubeconfigDir = dir
    this.save()
    return dir
  }

  kubeconfigFile(file: string): void {
    this.state.kubeconfigPath = file
    this.save()
  }

  /** Before exporting KUBECONFIG: what post restores. */
  exportingKubeconfig(previous: string | null): void {
    this.state.previousKubeconfig = previous
    this.save()
  }

  /** Forget everything, after main rolled back its own work. */
  clear(): void {
    this.state = {}
    this.save()
  }

  private save(): void {
    host().saveRecord(JSON.stringify(this.state))
  }
}

/**
 * Saved state post will not act on: it is not JSON, or not a record this
 * action's main step could have made in this job. `reason` says what did not
 * match without repeating any of its values, which an earlier step may have
 * planted.
 */
export class UntrustedStateError extends ActionError {
  constructor(readonly reason: string) {
    super(`The state the main step saved was not used (${reason}).`)
    this.name = 'UntrustedStateError'
  }
}

/** What post knows for itself, from its inputs and the runner, to check the record against. */
export interface StateExpectations {
  /** The validated `namespace` input; undefined when it is not valid. */
  namespace: string | undefined
  /** RUNNER_TEMP as this step sees it. */
  runnerTemp: string
  /** How the inputs say the bootstrap identity is given. */
  bootstrap: {
    kubeconfigInput: boolean
    context: string
    oidc?: { audience: string; server: string }
  }
  /** For the run id and attempt in per-run Secret names. */
  env?: NodeJS.ProcessEnv
  /** The CLI's part of per-run Secret names (MintRequest.nameScope). */
  nameScope?: string
}

const FIELDS = new Set<string>([
  'bootstrap',
  'anchor',
  'kubeconfigDir',
  'kubeconfigPath',
  'previousKubeconfig',
  'mintedAt',
  'expiration',
  'grantedSeconds',
  'lifetimeSource',
  'renewEvery'
])
const LIFETIME_SOURCES = new Set<string>([
  'duration',
  'job',
  'job-timeout-minutes',
  'assumed-default'
])
const UID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

type Json = Record<string, unknown>

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function only(value: Json, keys: string[], what: string): void {
  if (Object.keys(value).some((key) => !keys.includes(key))) {
    throw new UntrustedStateError(`${what} has a field main never saves`)
  }
}

function optional(
  value: Json,
  key: string,
  type: 'string' | 'boolean' | 'number',
  what: string
): void {
  if (value[key] !== undefined && typeof value[key] !== type) {
    throw new UntrustedStateError(`${what} field '${key}' is not a ${type}`)
  }
}

function checkSource(
  value: unknown,
  expected: StateExpectations
): BootstrapSource {
  const mismatch = new UntrustedStateError(
    'its bootstrap identity is not the one the inputs give'
  )
  if (!isObject(value)) throw mismatch
  const { kubeconfigInput, oidc } = expected.bootstrap
  switch (value.kind) {
    case 'input':
      only(value, ['kind'], 'the bootstrap source')
      if (!kubeconfigInput || oidc) throw mismatch
      return { kind: 'input' }
    case 'oidc':
      only(value, ['kind', 'audience'], 'the bootstrap source')
      if (!oidc || value.audience !== oidc.audience) throw mismatch
      return { kind: 'oidc', audience: oidc.audience }
    case 'in-cluster':
      only(value, ['kind'], 'the bootstrap source')
      if (kubeconfigInput || oidc) throw mismatch
      return { kind: 'in-cluster' }
    case 'files': {
      only(value, ['kind', 'paths'], 'the bootstrap source')
      const paths = value.paths
      if (
        kubeconfigInput ||
        oidc ||
        !Array.isArray(paths) ||
        paths.length === 0 ||
        !paths.every((p) => typeof p === 'string' && path.isAbsolute(p))
      ) {
        throw mismatch
      }
      return { kind: 'files', paths: paths as string[] }
    }
    default:
      throw mismatch
  }
}

function checkBootstrap(value: unknown, expected: StateExpectations): void {
  if (!isObject(value)) {
    throw new UntrustedStateError('its bootstrap identity is not a record')
  }
  only(value, ['source', 'context', 'server'], 'its bootstrap identity')
  const source = checkSource(value.source, expected)
  const { context, oidc } = expected.bootstrap
  if (
    typeof value.context !== 'string' ||
    (context !== '' && value.context !== context)
  ) {
    throw new UntrustedStateError(
      "its bootstrap context is not the 'context' input"
    )
  }
  // Post sends the bootstrap credential only to the server main used: one
  // the record must name (an https:// URL), and for OIDC the 'server' input.
  if (
    typeof value.server !== 'string' ||
    !value.server.startsWith('https://') ||
    (source.kind === 'oidc' && value.server !== oidc?.server)
  ) {
    throw new UntrustedStateError(
      'its API server is missing, not https://, or not the one the inputs give'
    )
  }
}

function checkAnchor(value: unknown, expected: StateExpectations): void {
  if (!isObject(value)) {
    throw new UntrustedStateError('its per-run Secret is not a record')
  }
  only(value, ['namespace', 'name', 'uid', 'created'], 'its per-run Secret')
  if (
    expected.namespace === undefined ||
    value.namespace !== expected.namespace
  ) {
    throw new UntrustedStateError(
      "its per-run Secret's namespace is not the 'namespace' input"
    )
  }
  if (
    typeof value.name !== 'string' ||
    !isPerRunSecretName(value.name, expected.env, expected.nameScope)
  ) {
    throw new UntrustedStateError(
      "its per-run Secret's name is not one this action gives in this run"
    )
  }
  if (
    value.uid !== undefined &&
    (typeof value.uid !== 'string' || !UID.test(value.uid))
  ) {
    throw new UntrustedStateError("its per-run Secret's uid is not a uid")
  }
  optional(value, 'created', 'boolean', "its per-run Secret's")
}

function checkFiles(
  value: Json,
  runnerTemp: string,
  scope: string | undefined
): void {
  const dir = value.kubeconfigDir
  if (dir !== undefined) {
    if (typeof dir !== 'string') {
      throw new UntrustedStateError("its field 'kubeconfigDir' is not a string")
    }
    // Only the path is checked here: what stands there now is checked when
    // it is removed, so a later step that swaps it for a link cannot stop
    // the revocation.
    if (!isOwnKubeconfigDir(dir, runnerTemp, scope)) {
      throw new UntrustedStateError(
        'the kubeconfig directory is not one this action creates directly under RUNNER_TEMP'
      )
    }
  }
  const file = value.kubeconfigPath
  if (
    file !== undefined &&
    (typeof dir !== 'string' || file !== path.join(dir, FILE_NAME))
  ) {
    throw new UntrustedStateError(
      'its kubeconfig file is not the one inside its kubeconfig directory'
    )
  }
  const previous = value.previousKubeconfig
  if (
    previous !== undefined &&
    previous !== null &&
    typeof previous !== 'string'
  ) {
    throw new UntrustedStateError(
      "its field 'previousKubeconfig' is not a string"
    )
  }
}

function checkMint(value: Json): void {
  for (const key of ['mintedAt', 'expiration']) {
    const time = value[key]
    if (time !== undefined && (typeof time !== 'string' || !isRfc3339(time))) {
      throw new UntrustedStateError(`its field '${key}' is not a timestamp`)
    }
  }
  const renew = value.renewEvery
  if (
    renew !== undefined &&
    (!Number.isSafeInteger(renew) || (renew as number) < 600)
  ) {
    throw new UntrustedStateError(
      "its field 'renewEvery' is not a token lifetime in seconds"
    )
  }
  const granted = value.grantedSeconds
  if (
    granted !== undefined &&
    (!Number.isSafeInteger(granted) || (granted as number) < 0)
  ) {
    throw new UntrustedStateError(
      "its field 'grantedSeconds' is not a whole number of seconds"
    )
  }
  const source = value.lifetimeSource
  if (
    source !== undefined &&
    (typeof source !== 'string' || !LIFETIME_SOURCES.has(source))
  ) {
    throw new UntrustedStateError(
      "its field 'lifetimeSource' is not a lifetime source"
    )
  }
}

/**
 * The record, if it is one this action's main step could have made in this
 * job: every field of its type, the per-run Secret in the 'namespace' input
 * with a name of this run, the kubeconfig directory directly under
 * RUNNER_TEMP with this action's name (whether a real directory is still
 * there is checked when it is removed), the file the one
 * inside it, and the bootstrap identity the one the inputs give. Otherwise
 * throws UntrustedStateError, and nothing is deleted.
 */
export function verifyRunState(
  value: unknown,
  expected: StateExpectations
): RunState {
  if (!isObject(value)) throw new UntrustedStateError('it is not a record')
  if (Object.keys(value).some((key) => !FIELDS.has(key))) {
    throw new UntrustedStateError('it has a field main never saves')
  }
  // Main saves the bootstrap identity before it creates the Secret.
  if (value.anchor !== undefined && value.bootstrap === undefined) {
    throw new UntrustedStateError('it names no bootstrap identity')
  }
  if (value.bootstrap !== undefined) checkBootstrap(value.bootstrap, expected)
  if (value.anchor !== undefined) checkAnchor(value.anchor, expected)
  checkFiles(value, expected.runnerTemp, expected.nameScope)
  checkMint(value)
  return value
}
