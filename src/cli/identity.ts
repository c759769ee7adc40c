import { spawn } from 'node:child_process'
import * as path from 'node:path'
import { ActionError, InputError } from '../core/errors.js'
import { jwtPayload } from '../core/jwt-claims.js'
import { maskSecret } from '../core/masking.js'
import { OWN_DIR } from '../core/names.js'
import {
  chooseSource,
  loadBootstrap,
  reloadBootstrap,
  type Bootstrap,
  type BootstrapRef
} from '../core/kube/bootstrap/index.js'
import { issuerOf } from '../core/kube/bootstrap/id-token.js'
import {
  kubeconfigBootstrap,
  pinBootstrap
} from '../core/kube/bootstrap/kubeconfig.js'
import {
  oidcKubeConfig,
  oidcWording,
  openOidc
} from '../core/kube/bootstrap/oidc.js'
import type { CallBounds } from '../core/kube/deadline.js'
import { flagWords } from './flag-words.js'
import type { IdentityChoice } from './flags.js'
import { onBuildkiteAgent } from './host.js'

/** Credentials in the environment the CLI reads and then withholds from its children. */
const CREDENTIAL_VARIABLES = [
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN',
  'ACTIONS_RUNTIME_TOKEN',
  'BUILDKITE_AGENT_ACCESS_TOKEN'
]

/**
 * Exec credential plugins run as the CLI's children and inherit its
 * environment: once the identity is open, the credentials it held leave it.
 */
export function withholdCredentialsFromChildren(
  identity: IdentityChoice,
  env: NodeJS.ProcessEnv = process.env
): void {
  const names = [...CREDENTIAL_VARIABLES]
  if (identity.kind === 'env') names.push(identity.variable)
  for (const name of names) Reflect.deleteProperty(env, name)
}

function refuseDisabledTlsChecks(env: NodeJS.ProcessEnv): void {
  if (env.NODE_TLS_REJECT_UNAUTHORIZED === '0') {
    throw new InputError(
      `NODE_TLS_REJECT_UNAUTHORIZED=0 is set, which would turn off ` +
        `certificate checks for the ID token and the new token: unset it and ` +
        `give the cluster's CA in --certificate-authority-data instead.`
    )
  }
}

/** The audience an ID token names (read, not verified: the API server verifies). */
function audienceOf(token: string, variable: string): string {
  let aud: unknown
  try {
    aud = (jwtPayload(token) as { aud?: unknown }).aud
  } catch {
    aud = undefined
  }
  const first = Array.isArray(aud) ? (aud[0] as unknown) : aud
  if (
    typeof first !== 'string' ||
    first === '' ||
    token.split('.').length !== 3
  ) {
    throw new InputError(
      `The environment variable ${variable} does not hold an ID token (a JWT with an audience): set it from your CI's ID token, for GitLab with id_tokens: ${variable}: aud: <the audience the API server expects>.`
    )
  }
  return first
}

/**
 * Buildkite's ID token for `audience`, from `buildkite-agent oidc
 * request-token` (the agent asks Buildkite with its own access token). The
 * token comes on the agent's stdout and goes nowhere else; the agent's
 * stderr is not repeated (it is the agent's to say), only its exit status.
 */
function buildkiteToken(
  audience: string,
  bounds: CallBounds,
  env: NodeJS.ProcessEnv
): Promise<string> {
  const ms = Math.max(1_000, Math.min(30_000, bounds.endsAt - Date.now()))
  return new Promise((resolve, reject) => {
    const child = spawn(
      'buildkite-agent',
      ['oidc', 'request-token', '--audience', audience],
      { stdio: ['ignore', 'pipe', 'ignore'], timeout: ms, env }
    )
    let out = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk: string) => {
      if (out.length < 64 * 1024) out += chunk
    })
    const failed = (why: string): ActionError =>
      new ActionError(
        `Requesting Buildkite's ID token for audience '${audience}' failed (${why}): run this step on a Buildkite agent (v3.36 or later) whose pipeline may request OIDC tokens.`
      )
    child.once('error', (error) => {
      const code = (error as { code?: string }).code
      reject(
        failed(
          code === 'ENOENT'
            ? 'buildkite-agent is not on PATH'
            : (code ?? 'could not start')
        )
      )
    })
    child.once('close', (code, signal) => {
      const token = out.trim()
      if (token !== '') maskSecret(token)
      if (code !== 0) {
        reject(
          failed(
            signal ? `stopped after ${ms / 1000} s` : `exit ${String(code)}`
          )
        )
      } else if (token.split('.').length !== 3) {
        reject(failed('its answer is not a JWT'))
      } else resolve(token)
    })
  })
}

/**
 * An ID token from another CI as the bootstrap: an in-memory client, never
 * a file, recorded as the OIDC kind (revoke opens it again from its own
 * flags, never from the record); its sentences name where it came from.
 */
function idTokenBootstrap(
  token: string,
  audience: string,
  target: { server: string; caData: string },
  whose: string
): Bootstrap {
  return {
    ref: {
      source: { kind: 'oidc', audience },
      context: '',
      server: target.server
    },
    kc: oidcKubeConfig(target, token),
    describe: () => `the ${whose}`,
    wording: oidcWording(audience, issuerOf(token), whose)
  }
}

/** Where a kubeconfig identity's sentences say it came from. */
function describeRef(ref: BootstrapRef): string {
  switch (ref.source.kind) {
    case 'files':
      return `the kubeconfig file ${ref.source.paths.join(path.delimiter)}`
    case 'in-cluster':
      return 'the in-cluster ServiceAccount'
    default:
      return 'the bootstrap kubeconfig'
  }
}

/** The ID token an `env:` identity names, masked and checked. */
function envToken(variable: string, env: NodeJS.ProcessEnv): string {
  const token = (env[variable] ?? '').trim()
  if (token === '') {
    throw new InputError(
      `The environment variable ${variable} is ${env[variable] === undefined ? 'not set' : 'empty'}, so there is no ID token to mint with: on GitLab give the job id_tokens: ${variable}: aud: <audience>, or name the right variable in --oidc-token-env.`
    )
  }
  maskSecret(token)
  return token
}

/** Where a kubeconfig identity comes from, as the record names it. */
function kubeconfigRef(
  identity: Extract<IdentityChoice, { kind: 'kubeconfig' | 'in-cluster' }>
): BootstrapRef {
  if (identity.kind === 'in-cluster') {
    return { source: { kind: 'in-cluster' }, context: '' }
  }
  if (identity.file === undefined) {
    return { source: chooseSource(''), context: identity.context }
  }
  if (OWN_DIR.test(path.basename(path.dirname(identity.file)))) {
    throw new InputError(
      `Flag --kubeconfig names a kubeconfig ephemeral-scan-token wrote, whose scanner token cannot mint: give the bootstrap kubeconfig.`
    )
  }
  return {
    source: { kind: 'files', paths: [identity.file] },
    context: identity.context
  }
}

/** Core sentences about the bootstrap, in flag words. */
async function inFlagWords<T>(open: () => T | Promise<T>): Promise<T> {
  try {
    return await open()
  } catch (error) {
    if (error instanceof InputError)
      throw new InputError(flagWords(error.message))
    if (error instanceof ActionError)
      throw new ActionError(flagWords(error.message))
    throw error
  }
}

/**
 * mint's identity, opened: its credential masked (where the CI masks) and
 * known to redact() before anything can print it.
 */
export function openIdentity(
  identity: IdentityChoice,
  bounds: CallBounds,
  env: NodeJS.ProcessEnv = process.env
): Promise<Bootstrap> {
  return inFlagWords(async () => {
    switch (identity.kind) {
      case 'kubeconfig':
      case 'in-cluster': {
        const ref = kubeconfigRef(identity)
        const kc = loadBootstrap(ref, '')
        return kubeconfigBootstrap(pinBootstrap(ref, kc), kc, describeRef(ref))
      }
      case 'env': {
        refuseDisabledTlsChecks(env)
        const token = envToken(identity.variable, env)
        return idTokenBootstrap(
          token,
          audienceOf(token, identity.variable),
          identity,
          `ID token in ${identity.variable}`
        )
      }
      case 'buildkite': {
        refuseDisabledTlsChecks(env)
        if (!onBuildkiteAgent(env)) {
          throw new InputError(
            'Identity buildkite needs a Buildkite agent job (BUILDKITE=true with BUILDKITE_AGENT_ACCESS_TOKEN or BUILDKITE_AGENT_JOB_API_SOCKET set), so no buildkite-agent was asked: run mint as a Buildkite step, or choose another --identity.'
          )
        }
        const token = await buildkiteToken(identity.audience, bounds, env)
        return idTokenBootstrap(
          token,
          identity.audience,
          identity,
          "job's Buildkite ID token"
        )
      }
      case 'github':
        return openOidc(identity, bounds, env)
    }
  })
}

/**
 * What revoke's own identity says the record's bootstrap must be: the
 * source (kind, and for a kubeconfig the very files), and for an ID token
 * its audience and the --server it is sent to. Computed before the record
 * is read.
 */
export interface IdentityExpectation {
  source: BootstrapRef['source']
  /** A kubeconfig's context: --context, else its current context. */
  context?: string
  /** The API server that context points at. */
  server?: string
  oidc?: { audience: string; server: string }
}

/**
 * revoke's identity, opened for the record: the same kind of identity as
 * mint's, from revoke's own flags and environment. A kubeconfig must point
 * at the server the record names (reloadBootstrap); an ID token is sent
 * only to revoke's own --server, which must be the record's.
 */
export async function reopenIdentity(
  identity: IdentityChoice,
  recorded: BootstrapRef,
  bounds: CallBounds,
  env: NodeJS.ProcessEnv = process.env
): Promise<Bootstrap> {
  if (identity.kind === 'kubeconfig' || identity.kind === 'in-cluster') {
    return inFlagWords(() => {
      // revoke's own context (--context, else the kubeconfig's current
      // one), never the record's: the state file does not choose which
      // credential goes to which server (verify refused a record of
      // another context before this).
      const own = kubeconfigRef(identity)
      const ref: BootstrapRef = {
        ...own,
        ...(recorded.server ? { server: recorded.server } : {})
      }
      return kubeconfigBootstrap(
        ref,
        reloadBootstrap(ref, ''),
        describeRef(ref)
      )
    })
  }
  return openIdentity(identity, bounds, env)
}

/** The expectation for revoke's checks; an env ID token is read (not used) for its audience. */
export function expectIdentity(
  identity: IdentityChoice,
  env: NodeJS.ProcessEnv = process.env
): Promise<IdentityExpectation> {
  return inFlagWords(() => {
    switch (identity.kind) {
      case 'kubeconfig':
      case 'in-cluster': {
        const ref = kubeconfigRef(identity)
        const kc = loadBootstrap(ref, '')
        return {
          source: ref.source,
          context: kc.getCurrentContext(),
          server: kc.getCurrentCluster()?.server ?? ''
        }
      }
      case 'env': {
        const token = envToken(identity.variable, env)
        const audience = audienceOf(token, identity.variable)
        return {
          source: { kind: 'oidc', audience },
          oidc: { audience, server: identity.server }
        }
      }
      case 'buildkite':
      case 'github':
        return {
          source: { kind: 'oidc', audience: identity.audience },
          oidc: { audience: identity.audience, server: identity.server }
        }
    }
  })
}
