import {
  Observable,
  type ConfigurationOptions,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext
} from '@kubernetes/client-node'

/** How long one Kubernetes call may take before the step gives up on it. */
export const CALL_TIMEOUT_MS = 30_000

/**
 * Per-call client options that abort a request after `ms`: a server that
 * accepts the connection but never answers must not hold the post step past
 * the runner's 5-minute cancel window (undici alone would wait 300 s).
 */
export function withDeadline(ms: number): ConfigurationOptions {
  // The object API hands options to the observable layer, so the middleware
  // answers with client-node's (promise-backed) Observable.
  const deadline: ObservableMiddleware = {
    pre: (context: RequestContext): Observable<RequestContext> => {
      context.setSignal(AbortSignal.timeout(ms))
      return new Observable(Promise.resolve(context))
    },
    post: (response: ResponseContext): Observable<ResponseContext> =>
      new Observable(Promise.resolve(response))
  }
  return { middleware: [deadline], middlewareMergeStrategy: 'append' }
}

/** True for the abort a deadline causes. */
export function isDeadlineError(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name
  return name === 'TimeoutError' || name === 'AbortError'
}

/**
 * Settle within `ms` whatever the client does: undici does not always honour
 * the abort signal while a TLS handshake is pending (it then waits for its
 * own 10 s connect timeout), so the deadline is enforced here as well.
 */
export async function within<T>(ms: number, call: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(
        new DOMException(
          'The operation was aborted due to timeout',
          'TimeoutError'
        )
      )
    }, ms)
  })
  try {
    return await Promise.race([call, expired])
  } finally {
    clearTimeout(timer)
  }
}
