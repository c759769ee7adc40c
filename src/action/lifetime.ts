import { errorMessage } from '../core/errors.js'
import { redact } from '../core/masking.js'
import { decideAutoLifetime } from '../core/token/auto-lifetime.js'
import { formatDuration } from '../core/token/duration.js'
import type { DurationRequest, Lifetime } from '../core/token/lifetime.js'
import { parseJobContext } from './github/job-context.js'
import type { JobFacts } from './github/job-facts.js'

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
      await import('./github/job-facts.js')
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
