import { formatDuration } from './duration.js'

/** The output `lifetime-source`. */
export type LifetimeSource =
  'duration' | 'job' | 'job-timeout-minutes' | 'assumed-default'

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

/**
 * For the post step, so users can tune `duration`: "held 12m of 25m", from
 * when the token was minted to now, against what the API server granted.
 */
export function describeHeld(
  mintedAt: Date,
  grantedSeconds: number,
  now: Date
): string {
  const held = Math.max(
    0,
    Math.round((now.getTime() - mintedAt.getTime()) / 1000)
  )
  return `held ${formatDuration(held)} of ${formatDuration(grantedSeconds)}`
}
