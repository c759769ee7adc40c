import { errorMessage } from '../errors.js'
import { parseJobContext } from '../github/job-context.js'
import type { JobFacts } from '../github/job-facts.js'
import { redact } from '../runner/masking.js'
import { decideAutoLifetime, type LifetimeSource } from './auto-lifetime.js'
import { formatDuration } from './duration.js'

/** The API server refuses TokenRequests shorter than 10 minutes. */
export const MIN_SECONDS = 600
/** ...and longer than 2^32 seconds. */
export const MAX_SECONDS = 2 ** 32
/**
 * A Pod-bound token asked for exactly this long gets a one-year `exp` from an
 * API server with --service-account-extend-token-expiration (the default):
 * the server's WarnOnlyBoundTokenExpirationSeconds, 1 h + 7 s.
 */
export const POD_EXTENSION_SECONDS = 60 * 60 + 7
/** GitHub's default (and hosted-runner maximum) job timeout, in minutes. */
export const DEFAULT_JOB_TIMEOUT_MINUTES = 360
/** Slack so the token outlives the last API call of a job that runs to its timeout. */
export const BUFFER_SECONDS = 5 * 60

export type DurationRequest =
  { kind: 'auto' } | { kind: 'explicit'; seconds: number }

export interface Lifetime {
  /** What to ask the API server for. */
  seconds: number
  /** How it was decided: the output `lifetime-source`. */
  source: LifetimeSource
  /** Why, in words, for the log and summary. */
  reason: string
  /** One sentence when the user should act (something assumed or capped). */
  warning?: string
}

/** What `duration: auto` needs to read the running job. */
export interface JobReading {
  githubToken: string
  /** The `job-context` input: the runner's `job` context as JSON. */
  jobContext: string
  /** The `job-timeout-minutes` input, when given. */
  jobTimeoutMinutes?: number
}

/**
 * Decide the token lifetime. An explicit duration is used as it is and makes
 * no GitHub API call; `auto` reads when the job started and its
 * timeout-minutes through the GitHub API and asks for the remaining time plus
 * 5 minutes. Never throws: what `auto` cannot read falls back, with one
 * warning.
 */
export async function decideLifetime(
  request: DurationRequest,
  maxSeconds: number,
  job: JobReading,
  env: NodeJS.ProcessEnv = process.env
): Promise<Lifetime> {
  if (request.kind === 'explicit') {
    return {
      seconds: request.seconds,
      source: 'duration',
      reason: `duration: ${formatDuration(request.seconds)}`
    }
  }
  const readTimeout = job.jobTimeoutMinutes === undefined
  let facts: JobFacts
  try {
    // Only `auto` reads GitHub, so only it loads the Octokit client.
    const { connectGitHub, readJobFacts, runCoordinatesFromEnv } =
      await import('../github/job-facts.js')
    const api = connectGitHub({
      token: job.githubToken,
      apiUrl: env.GITHUB_API_URL
    })
    facts = await readJobFacts(
      api,
      parseJobContext(job.jobContext),
      runCoordinatesFromEnv(env),
      readTimeout
    )
  } catch (error) {
    // @actions/github sets up its proxy when it is loaded, and throws for
    // an HTTPS_PROXY it cannot use (socks5://, which the Kubernetes calls
    // can): that falls back like any other unread fact.
    const why = `the GitHub client could not be set up (${redact(errorMessage(error))})`
    facts = {
      start: { ok: false, why },
      timeout: readTimeout ? { kind: 'unreadable', why } : undefined
    }
  }
  const auto = decideAutoLifetime({
    ...facts,
    now: new Date(),
    maxSeconds,
    jobTimeoutMinutes: job.jobTimeoutMinutes,
    githubHosted: env.RUNNER_ENVIRONMENT === 'github-hosted'
  })
  return {
    seconds: auto.seconds,
    source: auto.source,
    reason: `duration: auto, ${auto.words}`,
    warning: auto.warning
  }
}
