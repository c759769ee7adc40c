import { host } from '../ports.js'
import {
  ExponentialBackoff,
  TimeoutStrategy,
  fullJitterGenerator,
  handleWhen,
  isTaskCancelledError,
  retry,
  timeout,
  type IBackoff,
  type IBackoffFactory,
  type IRetryBackoffContext
} from 'cockatiel'
import { certainlyNotApplied, httpStatus, networkCode } from './api-errors.js'
import { isDeadlineError, recordHistory, type CallBounds } from './deadline.js'

/** Rate limiting, and a server that is failing, overloaded or restarting. */
const TRANSIENT_STATUSES = new Set([429, 500, 502, 503, 504])

/**
 * Connections that broke, were refused or timed out, as node:https reports
 * them (the Kubernetes calls' transport, see https-transport.ts): a server
 * restarting or a network blip. A socket closed before the answer or in the
 * middle of its body is ECONNRESET ('socket hang up', 'aborted'); a connect
 * to several addresses (happy eyeballs) that all fail is an AggregateError
 * carrying the first one's code. DNS names that do not exist and TLS
 * failures are not here: another try would fail the same way.
 */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH'
])

/** Waits grow 1 s, 2 s, 4 s, 8 s, 8 s … before jitter picks a point below. */
const FIRST_WAIT_MS = 1_000
const LONGEST_WAIT_MS = 8_000
/** A Retry-After longer than this is shortened to it. */
export const RETRY_AFTER_CAP_MS = 10_000
/** No new attempt starts with less time than this left. */
const SHORTEST_ATTEMPT_MS = 1_000

/** True when another attempt of the same request may succeed. */
export function isTransient(error: unknown): boolean {
  const status = httpStatus(error)
  if (status !== undefined) return TRANSIENT_STATUSES.has(status)
  if (isDeadlineError(error)) return true
  const code = networkCode(error)
  return code !== undefined && TRANSIENT_CODES.has(code)
}

/**
 * The wait a 429 or 503 asks for in its Retry-After header (seconds or an
 * HTTP date), capped; undefined when there is none.
 */
export function retryAfterMs(
  error: unknown,
  now: number = Date.now()
): number | undefined {
  const status = httpStatus(error)
  if (status !== 429 && status !== 503) return undefined
  const headers = (error as { headers?: Record<string, unknown> }).headers
  const raw = headers?.['retry-after']
  if (typeof raw !== 'string' || raw.trim() === '') return undefined
  const value = raw.trim()
  let ms: number
  if (/^\d+$/.test(value)) ms = Number(value) * 1000
  else {
    const date = Date.parse(value)
    if (Number.isNaN(date)) return undefined
    ms = Math.max(0, date - now)
  }
  return Math.min(ms, RETRY_AFTER_CAP_MS)
}

/** Why an attempt failed, in words safe for the log: no bodies, no headers. */
export function failureReason(error: unknown, attemptMs: number): string {
  const status = httpStatus(error)
  if (status !== undefined) {
    const after = retryAfterMs(error)
    return after === undefined
      ? `HTTP ${status}`
      : `HTTP ${status}, Retry-After ${after / 1000} s`
  }
  if (isDeadlineError(error)) return `no answer within ${attemptMs / 1000} s`
  return networkCode(error) ?? 'the request failed'
}

/**
 * Full-jitter exponential waits (cockatiel's), except that a server's
 * Retry-After wins, and no wait runs past the time the call has left.
 */
function pacedBackoff(
  room: () => number,
  onClipped: () => void
): IBackoffFactory<IRetryBackoffContext<unknown>> {
  const jittered = new ExponentialBackoff({
    generator: fullJitterGenerator,
    initialDelay: FIRST_WAIT_MS,
    maxDelay: LONGEST_WAIT_MS
  })
  const step = (
    previous: IBackoff<unknown> | undefined
  ): IBackoffFactory<IRetryBackoffContext<unknown>> => ({
    next(context): IBackoff<IRetryBackoffContext<unknown>> {
      const exponential = previous ? previous.next(undefined) : jittered.next()
      const asked =
        'error' in context.result
          ? retryAfterMs(context.result.error)
          : undefined
      const wanted = asked ?? exponential.duration
      const duration = Math.max(0, Math.min(wanted, room()))
      if (duration < wanted) onClipped()
      const following = step(exponential)
      return { duration, next: (later) => following.next(later) }
    }
  })
  return step(undefined)
}

/** What an attempt knows about the attempts before it. */
export interface AttemptContext {
  /** 1 for the first attempt. */
  number: number
  /** True when an earlier attempt may have taken effect. */
  mayHaveApplied: boolean
}

/**
 * Run one Kubernetes call with bounded retries: each attempt is aborted after
 * `bounds.attemptMs`; transient failures (429, 5xx, broken or refused
 * connections, timeouts) are retried after a full-jitter exponential wait or
 * the server's Retry-After, up to `bounds.attempts` attempts and never past
 * `bounds.callMs` or `bounds.endsAt`. Each retry is one debug line. The error
 * finally thrown is the last attempt's, with its history recorded (see
 * historyOf) for the one-sentence report.
 */
export async function withRetries<T>(
  what: string,
  bounds: CallBounds,
  attempt: (signal: AbortSignal, context: AttemptContext) => Promise<T>
): Promise<T> {
  const started = Date.now()
  const ends = Math.min(started + bounds.callMs, bounds.endsAt)
  const left = (): number => ends - Date.now()
  let attempts = 0
  let mayHaveApplied = false
  // A wait cut short to fit the budget leaves room for one attempt, not for
  // a burst of unpaced ones at the budget's edge.
  let lastWaitClipped = false

  const worthAnother = (error: unknown): boolean =>
    !lastWaitClipped &&
    isTransient(error) &&
    left() - (retryAfterMs(error) ?? 0) >= SHORTEST_ATTEMPT_MS
  const policy = retry(handleWhen(worthAnother), {
    maxAttempts: bounds.attempts - 1,
    backoff: pacedBackoff(
      () => left() - SHORTEST_ATTEMPT_MS,
      () => (lastWaitClipped = true)
    )
  })
  policy.onRetry((event) => {
    const reason =
      'error' in event
        ? failureReason(event.error, bounds.attemptMs)
        : 'no result'
    host().debug(
      `${what}: attempt ${event.attempt} of ${bounds.attempts} failed ` +
        `(${reason}); retrying in ${(event.delay / 1000).toFixed(1)} s.`
    )
  })

  try {
    return await policy.execute(async () => {
      attempts++
      const context = { number: attempts, mayHaveApplied }
      const limit = Math.max(1, Math.min(bounds.attemptMs, left()))
      // Aggressive: settle at the limit even if the client ignores the
      // signal (a stalled TLS handshake can outlast it).
      const perAttempt = timeout(limit, {
        strategy: TimeoutStrategy.Aggressive,
        abortOnReturn: false
      })
      try {
        return await perAttempt.execute(({ signal }) =>
          attempt(signal, context)
        )
      } catch (error) {
        const failure = isTaskCancelledError(error)
          ? new DOMException(
              'The operation was aborted due to timeout',
              'TimeoutError'
            )
          : error
        if (!certainlyNotApplied(failure)) mayHaveApplied = true
        throw failure
      }
    })
  } catch (error) {
    recordHistory(error, {
      attempts,
      elapsedMs: Date.now() - started,
      attemptMs: bounds.attemptMs,
      mayHaveApplied
    })
    throw error
  }
}
