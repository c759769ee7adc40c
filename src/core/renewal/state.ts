import { ForeignFileError } from './files.js'

// What main leaves in the kubeconfig directory for the credential helper,
// and what the helper keeps there. Parsed strictly: exactly the fields this
// code writes, each of its type and shape, or the helper refuses. None of
// it is long-lived: the config holds no credential at all, the cache one
// token that lives `renew-every`, the record only ids and expiries.

/** How a renewal authenticates to mint; never a stored credential. */
export type RenewalBootstrap =
  /** The job's GitHub ID token for `audience`, fetched fresh each time. */
  | { kind: 'oidc'; audience: string }
  /** The ServiceAccount token file of the pod the runner is, re-read each time. */
  | { kind: 'in-cluster' }
  /**
   * An ID token in the helper's own environment variable (GitLab's
   * `id_tokens:`), which the client passes on to the helper: read each time.
   */
  | { kind: 'env'; variable: string }

/** `renewal.json`: everything a renewal needs except a credential. */
export interface RenewalConfig {
  version: 1
  server: string
  /** Base64 PEM CA bundle, as a kubeconfig carries it. */
  caData: string
  namespace: string
  serviceAccount: string
  audiences: string[]
  /** The per-run Secret every token is bound to: by name and uid. */
  secret: { name: string; uid: string }
  /** The end of the window (`duration`), seconds since the epoch. */
  windowEnd: number
  /** Each token's lifetime (`renew-every`), seconds. */
  tokenSeconds: number
  bootstrap: RenewalBootstrap
}

/** `token.json`: the current token and its times (seconds since the epoch). */
export interface TokenCache {
  version: 1
  token: string
  issuedAt: number
  expiresAt: number
}

/** One line of `minted.log`: a token's id and expiry, never the token. */
export interface MintedEntry {
  credentialId: string
  expiresAt: number
}

/** Upper bounds on what is read: far above anything this code writes. */
export const MAX_CONFIG_BYTES = 64 * 1024
export const MAX_CACHE_BYTES = 32 * 1024
export const MAX_RECORD_BYTES = 256 * 1024
/** A job of 6 h renewing every 10 min mints ~45 tokens; more is not ours. */
export const MAX_RECORD_ENTRIES = 2000

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/
const UID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/
const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/
const SECONDS_MAX = 2 ** 40
/** An environment variable's name, as the CLI accepts one for the ID token. */
export const ENV_VARIABLE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/
/**
 * The longest a renewal window or a token may be: 6 h 10 m, the action's
 * ceiling with 'renew-every' (main refuses a longer window) and the
 * example guardrails' one. A tampered renewal.json cannot ask for more.
 */
export const RENEWAL_MAX_SECONDS = 22_200
/** The API server's minimum token lifetime. */
const RENEWAL_MIN_SECONDS = 600
/** Leeway for the window's end against this machine's clock (NTP steps). */
const WINDOW_SLACK_SECONDS = 300
/** 2100-01-01T00:00:00Z: no expiry this code writes is later. */
const EPOCH_SECONDS_MAX = 4_102_444_800

type Json = Record<string, unknown>

function bad(what: string): ForeignFileError {
  return new ForeignFileError(
    `The ${what} in the kubeconfig directory is not one the ` +
      `ephemeral-scan-token step wrote, so no credential is printed: do not ` +
      `change that directory, and re-run the job.`
  )
}

function parseObject(text: string, what: string): Json {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw bad(what)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw bad(what)
  }
  return value as Json
}

function exactly(value: Json, keys: string[], what: string): void {
  const got = Object.keys(value).sort()
  const want = [...keys].sort()
  if (got.length !== want.length || got.some((k, i) => k !== want[i])) {
    throw bad(what)
  }
}

function seconds(value: unknown, what: string): number {
  if (!Number.isSafeInteger(value) || (value as number) <= 0) throw bad(what)
  if ((value as number) > SECONDS_MAX) throw bad(what)
  return value as number
}

/** A token lifetime main could have written: 600 s to 6 h 10 m. */
function lifetime(value: unknown, what: string): number {
  const n = seconds(value, what)
  if (n < RENEWAL_MIN_SECONDS || n > RENEWAL_MAX_SECONDS) throw bad(what)
  return n
}

/**
 * Refuse a window that ends later than main could have set it: main's
 * window is at most RENEWAL_MAX_SECONDS from its mint, which is before
 * `nowSeconds`, so an honest end is never further off than that (plus a
 * little for a clock stepped back). Against the clock, not a file: every
 * file of the directory is writable by the same user.
 */
export function checkWindowEnd(
  config: RenewalConfig,
  nowSeconds: number
): void {
  if (
    config.windowEnd >
    nowSeconds + RENEWAL_MAX_SECONDS + WINDOW_SLACK_SECONDS
  ) {
    throw bad('renewal configuration')
  }
}

function text(value: unknown, what: string, shape: RegExp, max = 512): string {
  if (typeof value !== 'string' || value.length > max || !shape.test(value)) {
    throw bad(what)
  }
  return value
}

export function parseRenewalConfig(raw: string): RenewalConfig {
  const what = 'renewal configuration'
  const value = parseObject(raw, what)
  exactly(
    value,
    [
      'version',
      'server',
      'caData',
      'namespace',
      'serviceAccount',
      'audiences',
      'secret',
      'windowEnd',
      'tokenSeconds',
      'bootstrap'
    ],
    what
  )
  if (value.version !== 1) throw bad(what)
  const server = text(value.server, what, /^https:\/\/[^\s@]+$/, 2048)
  const caData = text(value.caData, what, BASE64, 48 * 1024)
  const namespace = text(value.namespace, what, DNS_LABEL)
  const serviceAccount = text(value.serviceAccount, what, DNS_SUBDOMAIN)
  if (
    !Array.isArray(value.audiences) ||
    value.audiences.length > 32 ||
    !value.audiences.every(
      (a) => typeof a === 'string' && a !== '' && a.length <= 512
    )
  ) {
    throw bad(what)
  }
  const secret = value.secret
  if (typeof secret !== 'object' || secret === null) throw bad(what)
  exactly(secret as Json, ['name', 'uid'], what)
  const { name, uid } = secret as Json
  const bootstrap = value.bootstrap
  if (typeof bootstrap !== 'object' || bootstrap === null) throw bad(what)
  const b = bootstrap as Json
  let parsedBootstrap: RenewalBootstrap
  if (b.kind === 'oidc') {
    exactly(b, ['kind', 'audience'], what)
    parsedBootstrap = {
      kind: 'oidc',
      audience: text(b.audience, what, /^[^\s]+$/)
    }
  } else if (b.kind === 'in-cluster') {
    exactly(b, ['kind'], what)
    parsedBootstrap = { kind: 'in-cluster' }
  } else if (b.kind === 'env') {
    exactly(b, ['kind', 'variable'], what)
    parsedBootstrap = {
      kind: 'env',
      variable: text(b.variable, what, ENV_VARIABLE)
    }
  } else {
    throw bad(what)
  }
  return {
    version: 1,
    server,
    caData,
    namespace,
    serviceAccount,
    audiences: value.audiences as string[],
    secret: {
      name: text(name, what, DNS_SUBDOMAIN),
      uid: text(uid, what, UID)
    },
    windowEnd: seconds(value.windowEnd, what),
    tokenSeconds: lifetime(value.tokenSeconds, what),
    bootstrap: parsedBootstrap
  }
}

export function parseTokenCache(raw: string): TokenCache {
  const what = 'token cache'
  const value = parseObject(raw, what)
  exactly(value, ['version', 'token', 'issuedAt', 'expiresAt'], what)
  if (value.version !== 1) throw bad(what)
  const issuedAt = seconds(value.issuedAt, what)
  const expiresAt = seconds(value.expiresAt, what)
  if (expiresAt <= issuedAt) throw bad(what)
  return {
    version: 1,
    token: text(value.token, what, JWT, 16 * 1024),
    issuedAt,
    expiresAt
  }
}

export function serialiseTokenCache(
  cache: Omit<TokenCache, 'version'>
): string {
  return JSON.stringify({ version: 1, ...cache })
}

const RECORD_LINE =
  /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}) (\d{1,10})$/

export function recordLine(entry: MintedEntry): string {
  return `${entry.credentialId} ${entry.expiresAt}`
}

/**
 * The record's entries, read as untrusted (a later step runs as the same
 * user and could have written it): every line must be a uid and a number,
 * at most MAX_RECORD_ENTRIES of them; anything else makes the whole record
 * unreadable (undefined), and post then says so instead of guessing.
 */
export function parseMintRecord(raw: string): MintedEntry[] | undefined {
  const lines = raw.split('\n')
  if (lines.at(-1) === '') lines.pop()
  if (lines.length > MAX_RECORD_ENTRIES) return undefined
  const entries: MintedEntry[] = []
  for (const line of lines) {
    const match = RECORD_LINE.exec(line)
    if (!match) return undefined
    const expiresAt = Number(match[2])
    // Strictly bounded: post formats it as a date, and must never throw.
    if (expiresAt < 1 || expiresAt > EPOCH_SECONDS_MAX) return undefined
    entries.push({ credentialId: match[1] ?? '', expiresAt })
  }
  return entries
}
