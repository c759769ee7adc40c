import { formatDuration } from './duration.js'
import { MIN_SECONDS, type LifetimeSource } from './lifetime.js'

/** GitHub's default (and hosted-runner maximum) job timeout, in minutes. */
const DEFAULT_JOB_TIMEOUT_MINUTES = 360
/** Slack so the token outlives the last API call of a job that runs to its timeout. */
const BUFFER_SECONDS = 5 * 60

/** A fact the host read about the running job, or why it could not. */
export type Fact<T> = { ok: true; value: T } | { ok: false; why: string }

/** What the job's workflow file says its timeout-minutes is. */
export type WorkflowTimeout =
  /** A literal, positive number of minutes. */
  | { kind: 'minutes'; minutes: number }
  /** The job sets none: GitHub's default of 360 minutes applies. */
  | { kind: 'absent' }
  /** An expression (`${{ inputs.t }}`) that only the workflow run can evaluate. */
  | { kind: 'expression'; text: string }
  /** Anything else; `why` completes "could not read the job's timeout-minutes (…)". */
  | { kind: 'unreadable'; why: string }

export interface AutoLifetimeInput {
  /** The moment the lifetime is decided (just before the TokenRequest). */
  now: Date
  /** The input max-duration, in seconds (at least MIN_SECONDS). */
  maxSeconds: number
  /** The input job-timeout-minutes, when given; it wins over the workflow. */
  jobTimeoutMinutes?: number
  /** When the job started, or why that is unknown. */
  start: Fact<{ startedAt: Date }>
  /** What the workflow file says; undefined when it was not read. */
  timeout: WorkflowTimeout | undefined
  /** RUNNER_ENVIRONMENT is github-hosted: such jobs stop at 360 minutes whatever they set. */
  githubHosted?: boolean
}

export interface AutoLifetime {
  /** What to ask the API server for. */
  seconds: number
  /** Where the job's timeout came from (`duration` is the caller's own case). */
  source: Exclude<LifetimeSource, 'duration'>
  /** How it was decided, for the log and summary: "job started 10m ago, timeout 30m: 25m". */
  words: string
  /** One sentence when something was assumed or capped; undefined otherwise. */
  warning?: string
}

interface Timeout {
  minutes: number
  source: AutoLifetime['source']
  words: string
  /** Set when the 360-minute default had to be assumed. */
  assumedBecause?: string
}

function minutes(value: number): string {
  return formatDuration(Math.round(value * 60))
}

function jobTimeout(input: AutoLifetimeInput): Timeout {
  if (input.jobTimeoutMinutes !== undefined) {
    return {
      minutes: input.jobTimeoutMinutes,
      source: 'job-timeout-minutes',
      words: `job-timeout-minutes ${minutes(input.jobTimeoutMinutes)}`
    }
  }
  const timeout = input.timeout
  const assumed = (why: string): Timeout => ({
    minutes: DEFAULT_JOB_TIMEOUT_MINUTES,
    source: 'assumed-default',
    words: `timeout assumed ${minutes(DEFAULT_JOB_TIMEOUT_MINUTES)}`,
    assumedBecause: why
  })
  switch (timeout?.kind) {
    case 'minutes':
      return {
        minutes: timeout.minutes,
        source: 'job',
        words: `timeout ${minutes(timeout.minutes)}`
      }
    case 'absent':
      return {
        minutes: DEFAULT_JOB_TIMEOUT_MINUTES,
        source: 'job',
        words: `timeout ${minutes(DEFAULT_JOB_TIMEOUT_MINUTES)} (GitHub's default)`
      }
    case 'expression':
      return assumed(
        `the job sets it with the expression ${timeout.text}, which only the workflow run can evaluate`
      )
    case 'unreadable':
      return assumed(timeout.why)
    case undefined:
      return assumed('nothing read it')
  }
}

/** "a", "a, or b", "a, b, or c". */
function either(options: string[]): string {
  if (options.length <= 2) return options.join(', or ')
  return `${options.slice(0, -1).join(', ')}, or ${options.at(-1) ?? ''}`
}

/** "a", "a, and b", "a, b, and c". */
function all(clauses: string[]): string {
  if (clauses.length <= 2) return clauses.join(', and ')
  return `${clauses.slice(0, -1).join(', ')}, and ${clauses.at(-1) ?? ''}`
}

/**
 * `duration: auto`: the job's remaining time plus 5 minutes,
 * `started_at + timeout - now + 5m`, at least the API server's 600 s and at
 * most max-duration. The remaining time is rounded up to whole minutes, so
 * the words add up ("started 10m ago, timeout 30m: 25m"). Whatever was not
 * read falls back (360 minutes; now) and is named in one warning with the
 * input that fixes it; a result that was read in full and fits max-duration
 * has no warning. Pure.
 */
export function decideAutoLifetime(input: AutoLifetimeInput): AutoLifetime {
  const timeout = jobTimeout(input)
  let timeoutWords = timeout.words
  let timeoutMinutes = timeout.minutes
  if (input.githubHosted && timeoutMinutes > DEFAULT_JOB_TIMEOUT_MINUTES) {
    timeoutMinutes = DEFAULT_JOB_TIMEOUT_MINUTES
    timeoutWords += `, ${minutes(DEFAULT_JOB_TIMEOUT_MINUTES)} on a GitHub-hosted runner`
  }

  const elapsed = input.start.ok
    ? Math.max(
        0,
        Math.floor(
          (input.now.getTime() - input.start.value.startedAt.getTime()) / 1000
        )
      )
    : 0
  const remaining =
    Math.ceil(Math.max(0, timeoutMinutes * 60 - elapsed) / 60) * 60
  const wanted = remaining + BUFFER_SECONDS
  const seconds = Math.max(MIN_SECONDS, Math.min(wanted, input.maxSeconds))
  const capped = wanted > input.maxSeconds

  const startWords = input.start.ok
    ? `job started ${elapsed < 60 ? '0m' : formatDuration(Math.floor(elapsed / 60) * 60)} ago`
    : 'start unknown, counted from now'
  let result = formatDuration(seconds)
  if (capped) {
    result = `${formatDuration(wanted)}, capped at max-duration ${formatDuration(seconds)}`
  } else if (wanted < MIN_SECONDS) {
    result = `${formatDuration(seconds)}, the API server's minimum`
  }
  const words = `${startWords}, ${timeoutWords}: ${result}`

  const clauses: string[] = []
  const fixes: string[] = []
  const defaultWords = `GitHub's default of ${String(DEFAULT_JOB_TIMEOUT_MINUTES)} minutes`
  const startWhy = input.start.ok ? undefined : input.start.why
  if (
    timeout.assumedBecause !== undefined &&
    timeout.assumedBecause === startWhy
  ) {
    // One cause (typically an API that is down) is said once.
    clauses.push(
      `could not read the job's timeout-minutes or when the job started (${startWhy}), so it assumed ${defaultWords} counted from now`
    )
  } else {
    if (timeout.assumedBecause !== undefined) {
      clauses.push(
        `could not read the job's timeout-minutes (${timeout.assumedBecause}), so it assumed ${defaultWords}`
      )
    }
    if (startWhy !== undefined) {
      clauses.push(
        `could not read when the job started (${startWhy}), so it counted from now`
      )
    }
  }
  if (timeout.assumedBecause !== undefined) {
    fixes.push("'job-timeout-minutes' to the job's timeout-minutes")
  }
  if (capped) {
    clauses.push(
      `capped the token at max-duration (${formatDuration(input.maxSeconds)}) although the job may run ${formatDuration(remaining)} more`
    )
    fixes.push("'max-duration' higher")
  }
  fixes.push("'duration' to choose the lifetime yourself")
  const warning =
    clauses.length === 0
      ? undefined
      : `duration: auto ${all(clauses)}; set ${either(fixes)}.`

  return { seconds, source: timeout.source, words, warning }
}
