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
  /** Why, in words, for the log. */
  reason: string
  /** Set when the user should act (auto capped or undeterminable). */
  warning?: string
}

/**
 * Decide the token lifetime. `auto` matches the job: its timeout (GitHub's
 * default of 360 minutes, because an action cannot read `timeout-minutes`)
 * plus a 5-minute buffer, capped at `max-duration`.
 */
export function resolveLifetime(
  request: DurationRequest,
  maxSeconds: number
): Lifetime {
  if (request.kind === 'explicit') {
    return {
      seconds: request.seconds,
      reason: `duration: ${formatDuration(request.seconds)}`
    }
  }
  const wanted = DEFAULT_JOB_TIMEOUT_MINUTES * 60 + BUFFER_SECONDS
  if (wanted <= maxSeconds) {
    return {
      seconds: wanted,
      reason: `duration: auto (job timeout ${DEFAULT_JOB_TIMEOUT_MINUTES}m + 5m buffer)`,
      warning:
        `duration: auto could not read this job's timeout-minutes, so it assumed ` +
        `GitHub's default of ${DEFAULT_JOB_TIMEOUT_MINUTES}m plus 5m ` +
        `(${formatDuration(wanted)}); set 'duration' to your scan's expected ` +
        `time plus a margin to choose a shorter lifetime.`
    }
  }
  return {
    seconds: maxSeconds,
    reason: `duration: auto, capped at max-duration ${formatDuration(maxSeconds)}`,
    warning:
      `duration: auto could not read this job's timeout-minutes, so it assumed ` +
      `GitHub's default of ${DEFAULT_JOB_TIMEOUT_MINUTES}m plus 5m and capped the ` +
      `token at max-duration (${formatDuration(maxSeconds)}); set 'duration' to ` +
      `your scan's expected time plus a margin (for example 'duration: 30m') to ` +
      `choose the lifetime yourself.`
  }
}
