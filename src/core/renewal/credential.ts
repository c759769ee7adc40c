import * as path from 'node:path'
import { ActionError } from '../errors.js'
import {
  LOCK_FILE,
  MINT_RECORD,
  RENEWAL_CONFIG,
  TOKEN_CACHE,
  appendLine,
  checkRenewalDir,
  readOwnFile,
  writeAtomically
} from './files.js'
import {
  MAX_CACHE_BYTES,
  MAX_CONFIG_BYTES,
  checkWindowEnd,
  parseRenewalConfig,
  parseTokenCache,
  recordLine,
  serialiseTokenCache,
  type RenewalConfig,
  type TokenCache
} from './state.js'

// The credential helper's decisions, free of any CI and of the network:
// the minting and the lock come in as functions, so the unit tests drive
// every branch with a clock and a counter.

/** The API server refuses TokenRequests shorter than 10 minutes. */
const MIN_TOKEN_SECONDS = 600

/**
 * How long before its expiry a token is renewed: 20 % of its life, at
 * least 2 minutes. client-go takes `expirationTimestamp` literally (no
 * skew of its own), so the helper hands out that earlier time: a client
 * comes back for a new token exactly when the helper would renew, with
 * time to spare for a slow clock or a long request.
 */
export function marginSeconds(lifeSeconds: number): number {
  return Math.max(120, Math.ceil(lifeSeconds * 0.2))
}

/** When the cached token stops being handed out (seconds since the epoch). */
export function renewAt(
  cache: Pick<TokenCache, 'issuedAt' | 'expiresAt'>
): number {
  return cache.expiresAt - marginSeconds(cache.expiresAt - cache.issuedAt)
}

/** A newly minted token, as the minter returns it. */
export interface Minted {
  token: string
  /** The lifetime the API server granted, seconds. */
  grantedSeconds: number
  credentialId: string
}

/** Mint one token for `config`, asking for `seconds`: one ID token, one TokenRequest. */
export type Minter = (config: RenewalConfig, seconds: number) => Promise<Minted>

/** Hold the renewal lock of `dir` while `work` runs. */
type Locker = <T>(dir: string, work: () => Promise<T>) => Promise<T>

export interface HelperParts {
  /** Milliseconds since the epoch (libfaketime moves it in the e2e tests). */
  now: () => number
  mint: Minter
  lock: Locker
}

export interface ExecCredential {
  apiVersion: 'client.authentication.k8s.io/v1'
  kind: 'ExecCredential'
  status: { token: string; expirationTimestamp: string }
}

function rfc3339(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z')
}

function execCredential(
  cache: TokenCache,
  config: RenewalConfig
): ExecCredential {
  return {
    apiVersion: 'client.authentication.k8s.io/v1',
    kind: 'ExecCredential',
    status: {
      token: cache.token,
      // The client comes back at the renewal point, or at the window's
      // end, whichever is first, and is then renewed or refused.
      expirationTimestamp: rfc3339(Math.min(renewAt(cache), config.windowEnd))
    }
  }
}

function readConfig(dir: string): RenewalConfig {
  const raw = readOwnFile(path.join(dir, RENEWAL_CONFIG), MAX_CONFIG_BYTES)
  if (raw === undefined) {
    throw new ActionError(
      `The kubeconfig directory has no renewal configuration, so no ` +
        `credential is printed: use the kubeconfig an ephemeral-scan-token ` +
        `step with 'renew-every' wrote, unchanged.`
    )
  }
  return parseRenewalConfig(raw)
}

function readCache(dir: string): TokenCache | undefined {
  const raw = readOwnFile(path.join(dir, TOKEN_CACHE), MAX_CACHE_BYTES)
  return raw === undefined ? undefined : parseTokenCache(raw)
}

function usable(
  cache: TokenCache | undefined,
  nowSeconds: number
): cache is TokenCache {
  return cache !== undefined && nowSeconds < renewAt(cache)
}

/**
 * The ExecCredential for the kubeconfig directory `dir`: the cached token
 * while it is well within its life, else a new one (minted once under the
 * lock, however many clients ask at the same moment), and a refusal once
 * the job's window is over or the post step has removed the directory.
 */
export async function credentialFor(
  dir: string,
  parts: HelperParts
): Promise<ExecCredential> {
  if (checkRenewalDir(dir) === 'gone') {
    throw new ActionError(
      `The kubeconfig directory is gone because the ephemeral-scan-token ` +
        `post step ran, which revoked every token of this job: use the ` +
        `kubeconfig only in the steps between the action and the end of the job.`
    )
  }
  const config = readConfig(dir)
  const nowSeconds = (): number => Math.floor(parts.now() / 1000)
  checkWindowEnd(config, nowSeconds())
  const windowOver = (): void => {
    if (nowSeconds() >= config.windowEnd) {
      throw new ActionError(
        `The renewal window of this job ended at ${rfc3339(config.windowEnd)}, ` +
          `so no new token is printed: raise the action's 'duration' (or ` +
          `'max-duration' for 'auto') if the job needs the cluster longer.`
      )
    }
  }
  windowOver()
  const cached = readCache(dir)
  if (usable(cached, nowSeconds())) return execCredential(cached, config)
  return parts.lock(dir, async () => {
    // Another client may have renewed while this one waited for the lock.
    const again = readCache(dir)
    if (usable(again, nowSeconds())) return execCredential(again, config)
    windowOver()
    const left = config.windowEnd - nowSeconds()
    const seconds = Math.max(
      MIN_TOKEN_SECONDS,
      Math.min(config.tokenSeconds, left)
    )
    // Counted from before the request, on this machine's clock: the one
    // the client compares expirationTimestamp with.
    const issuedAt = nowSeconds()
    const minted = await parts.mint(config, seconds)
    const cache: TokenCache = {
      version: 1,
      token: minted.token,
      issuedAt,
      expiresAt: issuedAt + minted.grantedSeconds
    }
    writeAtomically(path.join(dir, TOKEN_CACHE), serialiseTokenCache(cache))
    appendLine(
      path.join(dir, MINT_RECORD),
      recordLine({
        credentialId: minted.credentialId,
        expiresAt: cache.expiresAt
      })
    )
    return execCredential(cache, config)
  })
}

/** Where the lock lives: a name inside the directory the checks above passed. */
export function lockPath(dir: string): string {
  return path.join(dir, LOCK_FILE)
}
