import * as fs from 'node:fs'
import * as http from 'node:http'
import * as https from 'node:https'
import { ActionError } from '../../errors.js'
import { jwtPayload } from '../../jwt-claims.js'
import { maskSecret } from '../../masking.js'
import { httpStatus } from '../api-errors.js'
import { historyOf, isDeadlineError, type CallBounds } from '../deadline.js'
import { proxyAgent, proxyFor } from '../proxy-agents.js'
import { failureReason, withRetries } from '../retry.js'

// The job's GitHub ID token, fetched from the runner's endpoint with the
// environment and node:https only (no Actions toolkit), so the OIDC kind
// works from any process that has ACTIONS_ID_TOKEN_REQUEST_URL and _TOKEN:
// the action's main and post, and a later helper that re-mints.

/** The issuer of GitHub Actions ID tokens on github.com. */
export const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com'

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
    const claims = jwtPayload(idToken) as { iss?: unknown }
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

/**
 * One ID-token request: 10 s an attempt, up to 4 attempts within 30 s and
 * within the step's own deadline, so a silent endpoint costs main at most
 * half of its 60 s and never holds it past its 90 s. Never more attempts
 * than the caller allows: a renewal makes exactly one.
 */
export function idTokenBounds(step: CallBounds): CallBounds {
  return {
    attemptMs: 10_000,
    attempts: Math.min(4, step.attempts),
    callMs: 30_000,
    endsAt: step.endsAt
  }
}

/** An answer that is not a token: its status, as httpStatus() reads it. */
class IdTokenAnswer extends Error {
  constructor(readonly code: number) {
    super(`HTTP ${code}`)
  }
}

/** The answer's body, at most 64 KiB: an ID token is about 1 KiB. */
const MAX_BODY = 64 * 1024

/**
 * The endpoint the runner names, with the audience asked for. It must be
 * https:// (plain http only on loopback, for local runners and tests): the
 * request carries ACTIONS_ID_TOKEN_REQUEST_TOKEN, and the answer a
 * credential.
 */
function idTokenUrl(raw: string, audience: string): URL {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new ActionError(
      `ACTIONS_ID_TOKEN_REQUEST_URL is not a URL, so no ID token was ` +
        `requested: run this step on a GitHub Actions runner.`
    )
  }
  const loopback = /^(127\.\d+\.\d+\.\d+|\[::1\]|localhost)$/.test(url.hostname)
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new ActionError(
      `ACTIONS_ID_TOKEN_REQUEST_URL is not an https:// URL, so no ID token ` +
        `was requested: run this step on a GitHub Actions runner, and do not ` +
        `set that variable in the workflow.`
    )
  }
  url.searchParams.append('audience', audience)
  return url
}

/** One attempt: GET the URL with the request token, read `value` from the JSON answer. */
async function requestIdToken(
  url: URL,
  requestToken: string,
  signal: AbortSignal
): Promise<string> {
  const proxy = proxyFor(undefined, url)
  const client = url.protocol === 'http:' ? http : https
  let request: http.ClientRequest | undefined
  // Whatever the outcome, the attempt's connection ends with it: a failed
  // answer's body, or one that trickles, must not keep the step alive.
  const settle = (): void => {
    request?.destroy()
  }
  signal.addEventListener('abort', settle, { once: true })
  const body = await new Promise<string>((resolve, reject) => {
    signal.addEventListener(
      'abort',
      () => {
        reject(signal.reason as Error)
      },
      { once: true }
    )
    request = client.request(url, {
      method: 'GET',
      headers: {
        Accept: 'application/json',
        Authorization: `Bearer ${requestToken}`,
        'User-Agent': 'ephemeral-scan-token'
      },
      agent: proxy ? proxyAgent(proxy, url) : undefined,
      signal
    })
    request.once('response', (response) => {
      const status = response.statusCode ?? 0
      if (status !== 200) {
        reject(new IdTokenAnswer(status))
        return
      }
      let text = ''
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => {
        text += chunk
        if (text.length > MAX_BODY) {
          reject(
            new ActionError('the runner answered with more than an ID token')
          )
        }
      })
      response.once('end', () => {
        resolve(text)
      })
      response.once('error', reject)
    })
    request.once('error', reject)
    request.end()
  }).finally(() => {
    signal.removeEventListener('abort', settle)
    settle()
  })
  let value: unknown
  try {
    value = (JSON.parse(body) as { value?: unknown }).value
  } catch {
    value = undefined
  }
  if (typeof value !== 'string' || value === '') {
    throw new ActionError('the runner answered without a token')
  }
  return value
}

/** The one sentence for a fetch that did not end with a token. */
function fetchFailed(
  audience: string,
  error: unknown,
  bounds: CallBounds
): ActionError {
  const what = `Fetching the job's GitHub ID token for audience '${audience}' failed`
  if (error instanceof ActionError) {
    return new ActionError(`${what} (${error.message}): re-run the job.`)
  }
  const history = historyOf(error)
  const tries =
    history && history.attempts > 1
      ? `, tried ${history.attempts} times over ${Math.round(history.elapsedMs / 1000)} s`
      : ''
  const status = httpStatus(error)
  if (status !== undefined && status < 500 && status !== 429) {
    return new ActionError(
      `${what} (HTTP ${status}): check that the job has 'permissions: ` +
        `id-token: write' (set on the job or the workflow), then re-run it.`
    )
  }
  if (status !== undefined) {
    return new ActionError(
      `${what} (HTTP ${status}${tries}): GitHub could not issue one just ` +
        `now, so re-run the job.`
    )
  }
  const reason = isDeadlineError(error)
    ? `no answer within ${bounds.attemptMs / 1000} s`
    : failureReason(error, bounds.attemptMs)
  return new ActionError(
    `${what} before an answer arrived (${reason}${tries}): check that the ` +
      `runner can reach its ID-token endpoint, then re-run the job.`
  )
}

/**
 * Fetch the job's GitHub ID token for `audience` and mask it before anything
 * else can print it. The same request the Actions toolkit's getIDToken
 * makes, but bounded like every Kubernetes call (`bounds`: a per-attempt
 * timeout, retries on 5xx, 429 and dropped connections, all within the
 * step's deadline), which the toolkit's client is not. Failures become one sentence; neither the
 * request token nor the endpoint's answer is ever in it.
 */
export async function fetchIdToken(
  audience: string,
  bounds: CallBounds,
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
  const url = idTokenUrl(env.ACTIONS_ID_TOKEN_REQUEST_URL ?? '', audience)
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN ?? ''
  const limits = idTokenBounds(bounds)
  let token: string
  try {
    token = await withRetries(
      'Fetching the GitHub ID token',
      limits,
      (signal) => requestIdToken(url, requestToken, signal)
    )
  } catch (error) {
    throw fetchFailed(audience, error, limits)
  }
  maskSecret(token)
  return token
}
