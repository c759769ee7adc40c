// A renewal directory made the way the action's main makes it (0700, its
// name pattern, renewal.json + token.json + minted.log written by the real
// writer), in a fresh temp root: the setup the renewal unit tests share.
import { randomBytes } from 'node:crypto'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { writeRenewalFiles } from '../src/core/renewal/setup.js'

/** Seconds since the epoch: "now" at main's mint. */
export const T0 = 1_800_000_000
const UID = '0b5c2d1e-3f4a-4b6c-8d9e-0f1a2b3c4d5e'

/** A fake JWT: three base64url parts, which is all the cache checks. */
export function jwt(name: string): string {
  const part = (value: unknown): string =>
    Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'RS256' })}.${part({ sub: name })}.c2ln`
}

export function jti(n: number): string {
  return `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`
}

export const config = {
  server: 'https://203.0.113.10:6443',
  caData: Buffer.from('-----BEGIN CERTIFICATE-----').toString('base64'),
  namespace: 'scan',
  serviceAccount: 'scanner',
  audiences: [],
  secret: { name: 'ephemeral-scan-token-1-1-abcdef0123', uid: UID },
  windowEnd: T0 + 3600,
  tokenSeconds: 600,
  bootstrap: { kind: 'oidc' as const, audience: 'k8s' }
}

/** Make the directory under a new temp root; remove the root when done. */
export function makeRenewalDir(prefix: string): { root: string; dir: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  const dir = path.join(
    root,
    `ephemeral-scan-token-${randomBytes(12).toString('hex')}`
  )
  fs.mkdirSync(dir, { mode: 0o700 })
  fs.chmodSync(dir, 0o700)
  writeRenewalFiles(
    dir,
    config,
    { token: jwt('first'), grantedSeconds: 600, credentialId: jti(1) },
    T0
  )
  return { root, dir }
}
