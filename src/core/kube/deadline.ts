/**
 * How long one Kubernetes call may take, retries included. Every call of a
 * step also ends by the step's own deadline (`endsAt`), so a server that
 * stops answering cannot hold main past 90 s or post past its share of the
 * runner's 5-minute cancel window.
 */
export interface CallBounds {
  /** One attempt's limit: the request is aborted after this. */
  attemptMs: number
  /** Attempts in all, the first included. */
  attempts: number
  /** One call's limit, its retries and the waits between them included. */
  callMs: number
  /** When every call of this step must have ended (ms since the epoch). */
  endsAt: number
}

/** A control-plane call that has not answered in 15 s will not. */
export const ATTEMPT_MS = 15_000

/**
 * Main: each call up to 6 attempts within 40 s, all of them within 60 s of
 * the start, so that with the rollback's 15 s main gives up on a dead server
 * well inside 90 s.
 */
export function mainBounds(now: number = Date.now()): CallBounds {
  return {
    attemptMs: ATTEMPT_MS,
    attempts: 6,
    callMs: 40_000,
    endsAt: now + 60_000
  }
}

/** Main's rollback after a failure: short, because post tries again. */
export function rollbackBounds(now: number = Date.now()): CallBounds {
  return {
    attemptMs: 10_000,
    attempts: 3,
    callMs: 15_000,
    endsAt: now + 15_000
  }
}

/**
 * Post makes one call (the delete that revokes): up to 8 attempts within
 * 55 s, about a fifth of the runner's 5-minute cancel window.
 */
export function postBounds(now: number = Date.now()): CallBounds {
  return {
    attemptMs: ATTEMPT_MS,
    attempts: 8,
    callMs: 55_000,
    endsAt: now + 55_000
  }
}

/** True for the abort a deadline causes. */
export function isDeadlineError(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name
  return name === 'TimeoutError' || name === 'AbortError'
}

/** How a call that finally failed was tried. */
export interface CallHistory {
  attempts: number
  elapsedMs: number
  /** The limit each attempt had. */
  attemptMs: number
  /** True when some attempt may have taken effect (timeout, reset, 5xx). */
  mayHaveApplied: boolean
}

// Keyed by the error the call finally threw, so the error stays the client's
// own (its status and code read as before) and the sentence can still say
// how often it was tried.
const histories = new WeakMap<object, CallHistory>()

export function recordHistory(error: unknown, history: CallHistory): void {
  if (typeof error === 'object' && error !== null) {
    histories.set(error, history)
  }
}

/** How the call that threw `error` was tried, if it went through withRetries. */
export function historyOf(error: unknown): CallHistory | undefined {
  return typeof error === 'object' && error !== null
    ? histories.get(error)
    : undefined
}

/**
 * Run `run` under one deadline of `ms`: at that instant its signal aborts
 * and the result rejects with a TimeoutError, whatever the client does with
 * the signal. One timer does both, so everything `run` starts (retries,
 * pages, a fallback call) shares the same bound. The GitHub reads need the
 * rejection as well as the abort: Octokit's retry plugin waits between
 * attempts on timers that ignore the signal, then tries again. (The
 * Kubernetes calls get the same from their retry policy's timeout.)
 */
export async function within<T>(
  ms: number,
  run: (signal: AbortSignal) => Promise<T>
): Promise<T> {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const reason = new DOMException(
        'The operation was aborted due to timeout',
        'TimeoutError'
      )
      controller.abort(reason)
      reject(reason)
    }, ms)
  })
  try {
    return await Promise.race([run(controller.signal), expired])
  } finally {
    clearTimeout(timer)
  }
}
