import * as fs from 'node:fs'
import type { KubeConfig, User } from '@kubernetes/client-node'
import { maskSecret } from '../../masking.js'
import { record } from '../kubeconfig-references.js'

// Masking a kubeconfig bootstrap's credential: what the config holds, the
// files it names, and (through client-node's applyOptions) what actually
// goes on the wire. Every kubeconfig kind calls both functions when it
// opens; the OIDC kind masks its ID token as it fetches it.

/** File content, or nothing when it cannot be read (loading reports that). */
function readQuietly(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

/** The credentials a user entry holds in the config itself (auth providers refresh them there). */
function maskUserFields(user: User): void {
  maskSecret(user.token)
  maskSecret(user.password)
  if (user.username && user.password) {
    // The Basic header client-node builds from them.
    maskSecret(
      Buffer.from(`${user.username}:${user.password}`).toString('base64')
    )
  }
  maskSecret(user.keyData)
  if (typeof user.keyData === 'string') {
    const pem = Buffer.from(user.keyData, 'base64').toString('utf8')
    if (pem.includes('-----BEGIN')) maskSecret(pem)
  }
  // Legacy auth-provider entries (oidc, gcp, azure) keep tokens in config.
  const config = record(record(user.authProvider).config)
  for (const key of [
    'access-token',
    'id-token',
    'refresh-token',
    'client-secret'
  ]) {
    maskSecret(config[key])
  }
}

/**
 * Mask the bootstrap credential's secret parts before anything can print
 * them: what the config holds, and the key and token files it names (the
 * in-cluster ServiceAccount token is such a file).
 */
export function maskBootstrapCredentials(kc: KubeConfig): void {
  const user = kc.getCurrentUser()
  if (!user) return
  maskUserFields(user)
  if (user.keyFile) maskSecret(readQuietly(user.keyFile))
  const tokenFile = record(record(user.authProvider).config).tokenFile
  if (typeof tokenFile === 'string') maskSecret(readQuietly(tokenFile))
}

type RequestOptions = {
  headers?: Record<string, unknown>
  key?: unknown
  passphrase?: unknown
}

/** The credential in an Authorization header value, without its scheme. */
function credentialOf(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined
  // A token file's trailing newline can still be in the header value.
  const value = header.trim()
  const match = /^[A-Za-z][\w-]*\s+([\s\S]+)$/.exec(value)
  return match?.[1] ?? value
}

/**
 * Mask the credential that actually goes on the wire, whatever produced it:
 * a static token, a token file, an exec plugin (EKS, GKE, kubelogin), an
 * auth provider's refresh or the in-cluster token. client-node funnels the
 * authentication of every request (fetch and WebSocket alike) through the
 * KubeConfig's applyOptions, so the value is registered there, before the
 * request is sent. That method is private in client-node's typings: if a
 * client-node release renames it, this throws (and the unit tests fail)
 * rather than silently leaving the credential unmasked.
 */
export function maskOnTheWire(kc: KubeConfig): void {
  const hooks = kc as unknown as {
    applyOptions?: (opts: RequestOptions) => Promise<void>
  }
  const apply = hooks.applyOptions
  if (typeof apply !== 'function') {
    throw new Error(
      '@kubernetes/client-node no longer has KubeConfig.applyOptions, where the bootstrap credential is masked'
    )
  }
  hooks.applyOptions = async (opts: RequestOptions): Promise<void> => {
    await apply.call(kc, opts)
    for (const [name, value] of Object.entries(opts.headers ?? {})) {
      if (name.toLowerCase() === 'authorization') {
        maskSecret(credentialOf(value))
      }
    }
    const keys: unknown[] = Array.isArray(opts.key) ? opts.key : [opts.key]
    for (const key of keys) {
      maskSecret(Buffer.isBuffer(key) ? key.toString('utf8') : key)
    }
    maskSecret(opts.passphrase)
    const user = kc.getCurrentUser()
    if (user) maskUserFields(user)
  }
}
