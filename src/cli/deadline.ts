import { decideAutoLifetime } from '../core/token/auto-lifetime.js'
import { formatDuration } from '../core/token/duration.js'
import type { DurationRequest, Lifetime } from '../core/token/lifetime.js'
import { flagWords } from './flag-words.js'
import { isGitLab } from './naming.js'

/** Where `--duration auto` reads the job's deadline: detected, a named CI system, or nowhere. */
export type DeadlineProvider = 'auto' | 'gitlab' | 'buildkite' | 'none'

/** What a CI system says about the running job, or why it says nothing usable. */
type JobDeadline =
  | { ok: true; ci: string; startedAt?: Date; timeoutMinutes: number }
  | { ok: false; why: string }

// ISO 8601 in UTC as GitLab writes CI_JOB_STARTED_AT (2026-12-07T15:49:27Z),
// with optional fractions; anything else is not read as a time.
const UTC_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/

/** GitLab: CI_JOB_STARTED_AT (ISO 8601, UTC) and CI_JOB_TIMEOUT (seconds). */
function gitlab(env: NodeJS.ProcessEnv, now: Date): JobDeadline {
  const started = env.CI_JOB_STARTED_AT ?? ''
  const timeout = env.CI_JOB_TIMEOUT ?? ''
  if (!/^\d{1,9}$/.test(timeout) || Number(timeout) === 0) {
    return {
      ok: false,
      why: `CI_JOB_TIMEOUT is ${timeout === '' ? 'not set' : 'not a whole number of seconds'} (GitLab sets it from 15.7)`
    }
  }
  const at = UTC_TIME.test(started) ? new Date(started) : undefined
  if (
    !at ||
    Number.isNaN(at.getTime()) ||
    at.getTime() > now.getTime() + 60_000
  ) {
    return {
      ok: false,
      why: `CI_JOB_STARTED_AT is ${started === '' ? 'not set' : 'not a UTC time before now'}`
    }
  }
  return {
    ok: true,
    ci: 'GitLab',
    startedAt: at,
    timeoutMinutes: Number(timeout) / 60
  }
}

/**
 * Buildkite: BUILDKITE_TIMEOUT, minutes or `false`. It names no job start,
 * so the time is counted from now: the token may outlive the job by as
 * long as the job ran before this step, never the other way round.
 */
function buildkite(env: NodeJS.ProcessEnv): JobDeadline {
  const timeout = env.BUILDKITE_TIMEOUT ?? ''
  if (!/^\d{1,7}$/.test(timeout) || Number(timeout) === 0) {
    return {
      ok: false,
      why: `BUILDKITE_TIMEOUT is ${timeout === '' ? 'not set' : timeout === 'false' ? 'false (the step has no timeout)' : 'not a whole number of minutes'}`
    }
  }
  return { ok: true, ci: 'Buildkite', timeoutMinutes: Number(timeout) }
}

function read(
  provider: DeadlineProvider,
  env: NodeJS.ProcessEnv,
  now: Date
): JobDeadline {
  switch (provider) {
    case 'gitlab':
      return gitlab(env, now)
    case 'buildkite':
      return buildkite(env)
    case 'none':
      return { ok: false, why: '--deadline none' }
    case 'auto':
      if (isGitLab(env)) return gitlab(env, now)
      if (env.BUILDKITE === 'true') return buildkite(env)
      if (env.GITHUB_ACTIONS === 'true') {
        return {
          ok: false,
          why: "the CLI does not read a GitHub job's timeout (the action does)"
        }
      }
      return {
        ok: false,
        why: 'no CI system that names a job deadline was detected'
      }
  }
}

/**
 * The token's lifetime. An explicit --duration is used as it is. `auto`
 * is the job's remaining time plus 5 minutes, within --max-duration, with
 * the action's own arithmetic (decideAutoLifetime) fed by the CI system's
 * facts; where none names a deadline it asks for --max-duration and says so
 * in one sentence. Never throws.
 */
export function decideCliLifetime(
  request: DurationRequest,
  maxSeconds: number,
  provider: DeadlineProvider,
  env: NodeJS.ProcessEnv,
  now: Date = new Date()
): Lifetime {
  if (request.kind === 'explicit') {
    return {
      seconds: request.seconds,
      source: 'duration',
      reason: `duration: ${formatDuration(request.seconds)}`
    }
  }
  const job = read(provider, env, now)
  if (!job.ok) {
    return {
      seconds: maxSeconds,
      source: 'assumed-default',
      reason: `duration: auto, no job deadline read: --max-duration ${formatDuration(maxSeconds)}`,
      warning:
        `duration: auto read no job deadline (${job.why}), so it asked for ` +
        `--max-duration (${formatDuration(maxSeconds)}); set --duration to ` +
        `the job's length, or run where the CI names its timeout (GitLab ` +
        `CI_JOB_TIMEOUT with CI_JOB_STARTED_AT, Buildkite BUILDKITE_TIMEOUT).`
    }
  }
  const auto = decideAutoLifetime({
    now,
    maxSeconds,
    start: { ok: true, value: { startedAt: job.startedAt ?? now } },
    timeout: { kind: 'minutes', minutes: job.timeoutMinutes }
  })
  const words = job.startedAt
    ? auto.words
    : auto.words.replace(
        /^job started 0m ago/,
        'counted from now (Buildkite names no job start)'
      )
  return {
    seconds: auto.seconds,
    source: auto.source,
    reason: `duration: auto, ${job.ci} ${words}`,
    ...(auto.warning ? { warning: flagWords(auto.warning) } : {})
  }
}
