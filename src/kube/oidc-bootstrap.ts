import * as fs from 'node:fs'
import * as core from '@actions/core'
import { KubeConfig } from '@kubernetes/client-node'
import { ActionError } from '../errors.js'
import { maskSecret } from '../runner/masking.js'

/** The issuer of GitHub Actions ID tokens on github.com. */
export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com'

/**
 * Who the OIDC bootstrap speaks for, as the error sentences name it: the
 * audience asked for and the token's issuer. Never the token itself.
 */
export interface OidcIdentity {
  audience: string
  issuer: string
}

/** What the OIDC bootstrap needs to reach the API server. */
export interface OidcTarget {
  server: string
  /** Base64 PEM CA bundle, as in a kubeconfig. */
  caData: string
}

const REQUEST_VARIABLES = [
  'ACTIONS_ID_TOKEN_REQUEST_URL',
  'ACTIONS_ID_TOKEN_REQUEST_TOKEN'
] as const

/**
 * The `iss` claim, read (not verified: the API server verifies) so the 401
 * sentence names the issuer the cluster must trust. GitHub Enterprise
 * Server and custom enterprise issuers differ from github.com's.
 */
export function issuerOf(idToken: string): string {
  try {
    const payload = idToken.split('.')[1] ?? ''
    const claims = JSON.parse(
      Buffer.from(payload, 'base64url').toString('utf8')
    ) as { iss?: unknown }
    if (typeof claims.iss === 'string' && claims.iss.startsWith('https://')) {
      return claims.iss
    }
  } catch {
    // Not a readable JWT: the API server will say so with a 401.
  }
  return GITHUB_ISSUER
}

/** Events whose runs for a fork's pull request get the fork's (read-only) permissions. */
const PULL_REQUEST_EVENTS = new Set([
  'pull_request',
  'pull_request_review',
  'pull_request_review_comment'
])

interface PullRequestEvent {
  pull_request?: {
    head?: { repo?: { full_name?: string } | null }
    base?: { repo?: { full_name?: string } }
  }
}

/**
 * Why the runner offers no ID token, when the run itself says so: GitHub
 * never gives one to Dependabot runs or to pull requests from forks, whatever
 * the workflow's permissions say.
 */
function runWithoutIdToken(env: NodeJS.ProcessEnv): string | undefined {
  if (env.GITHUB_ACTOR === 'dependabot[bot]') {
    return (
      `No GitHub ID token is available to this step because Dependabot ` +
      `started this run, and GitHub gives Dependabot runs none: skip this ` +
      `step for them, for example with if: github.actor != 'dependabot[bot]'.`
    )
  }
  if (!PULL_REQUEST_EVENTS.has(env.GITHUB_EVENT_NAME ?? '')) return undefined
  let pr: PullRequestEvent['pull_request']
  try {
    const event = JSON.parse(
      fs.readFileSync(env.GITHUB_EVENT_PATH ?? '', 'utf8')
    ) as PullRequestEvent
    pr = event.pull_request
  } catch {
    return undefined
  }
  // A deleted fork leaves head.repo null.
  const head = pr?.head?.repo?.full_name
  if (!pr || head === pr.base?.repo?.full_name) return undefined
  return (
    `No GitHub ID token is available to this step because it runs for a ` +
    `pull request from ${head ? `the fork '${head}'` : 'a fork'}, and GitHub ` +
    `gives those runs none: skip this step for them, for example with ` +
    `if: github.event.pull_request.head.repo.full_name == github.repository.`
  )
}

/** core.getIDToken's error text carries the HTTP status as `Error Code : 403`. */
function failedStatus(message: string): number | undefined {
  const match = /Error Code : (\d{3})/.exec(message)
  return match?.[1] ? Number(match[1]) : undefined
}

/**
 * Fetch the job's GitHub ID token for `audience` and mask it before anything
 * else can print it. core.getIDToken masks it too; maskSecret also registers
 * it for our own redaction of error messages. Failures become one sentence;
 * core's own error text (which quotes the endpoint's answer) is not passed on.
 */
export async function fetchIdToken(
  audience: string,
  env: NodeJS.ProcessEnv = process.env
): Promise<string> {
  const unset = REQUEST_VARIABLES.find((name) => !env[name])
  if (unset) {
    const because = runWithoutIdToken(env)
    if (because) throw new ActionError(because)
    throw new ActionError(
      `No GitHub ID token is available to this step (${unset} is not set): ` +
        `give the job 'permissions: id-token: write', and note that runs for ` +
        `pull requests from forks and Dependabot runs never get an ID token, ` +
        `so skip this step for those.`
    )
  }
  let token: string
  try {
    token = await core.getIDToken(audience)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    const status = failedStatus(message)
    const what = `Fetching the job's GitHub ID token for audience '${audience}' failed`
    if (status === undefined) {
      throw new ActionError(
        /ID Token field/.test(message)
          ? `${what} (the runner answered without a token): re-run the job.`
          : `${what} before an answer arrived: check that the runner can ` +
              `reach its ID-token endpoint, then re-run the job.`
      )
    }
    throw new ActionError(
      status < 500
        ? `${what} (HTTP ${status}): check that the job has 'permissions: ` +
            `id-token: write' (set on the job or the workflow), then re-run it.`
        : `${what} (HTTP ${status}): GitHub could not issue one just now, so ` +
            `re-run the job.`
    )
  }
  maskSecret(token)
  return token
}

/**
 * A client configuration that exists only in memory: the server, its CA
 * and the ID token as bearer. It is never serialised, so the ID token never
 * reaches a file (the scanner's kubeconfig gets the CA and server only).
 */
export function oidcKubeConfig(
  target: OidcTarget,
  idToken: string
): KubeConfig {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    clusters: [
      {
        name: 'oidc-bootstrap',
        server: target.server,
        caData: target.caData,
        skipTLSVerify: false
      }
    ],
    users: [{ name: 'github-id-token', token: idToken }],
    contexts: [
      {
        name: 'oidc-bootstrap',
        cluster: 'oidc-bootstrap',
        user: 'github-id-token'
      }
    ],
    currentContext: 'oidc-bootstrap'
  })
  return kc
}

/** Fetch (and mask) an ID token and build the in-memory client for it. */
export async function openOidc(
  audience: string,
  target: OidcTarget
): Promise<{ kc: KubeConfig; oidc: OidcIdentity }> {
  const idToken = await fetchIdToken(audience)
  return {
    kc: oidcKubeConfig(target, idToken),
    oidc: { audience, issuer: issuerOf(idToken) }
  }
}
