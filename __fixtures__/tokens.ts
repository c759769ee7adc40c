import { randomBytes } from 'node:crypto'
import * as yaml from 'js-yaml'

export const SERVER = 'https://127.0.0.1:6443'
/** Not a real certificate: the action only carries it through as data. */
export const CA_PEM =
  '-----BEGIN CERTIFICATE-----\nMIIBfakeCAforUnitTestsOnly\n-----END CERTIFICATE-----\n'
export const CA_DATA = Buffer.from(CA_PEM).toString('base64')
export const BOOTSTRAP_TOKEN =
  'bootstrap-credential-0f1e2d3c4b5a69788796a5b4c3d2e1f0'

export interface Claims {
  jti?: string
  sub?: string
  iat?: number
  exp?: number
  [claim: string]: unknown
}

function b64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url')
}

/** A JWT shaped like a kube-apiserver ServiceAccount token (unsigned: nothing verifies it). */
export function fakeJwt(claims: Claims): string {
  const header = { alg: 'RS256', kid: 'unit-test-key' }
  return [
    b64url(JSON.stringify(header)),
    b64url(JSON.stringify(claims)),
    b64url(randomBytes(64))
  ].join('.')
}

export interface MintedFixture {
  token: string
  jti: string
  iat: number
  exp: number
}

/** A token for `system:serviceaccount:<namespace>:<name>` valid for `seconds` from now. */
export function serviceAccountToken(
  namespace: string,
  name: string,
  seconds: number
): MintedFixture {
  const iat = Math.floor(Date.now() / 1000)
  const exp = iat + seconds
  const jti = `jti-${randomBytes(8).toString('hex')}`
  const token = fakeJwt({
    aud: ['https://kubernetes.default.svc'],
    iss: 'https://kubernetes.default.svc',
    jti,
    iat,
    nbf: iat,
    exp,
    sub: `system:serviceaccount:${namespace}:${name}`,
    'kubernetes.io': {
      namespace,
      serviceaccount: { name, uid: 'b7e0c7d2-6c1a-4a38-9a49-1f4c0f1e2d3c' }
    }
  })
  return { token, jti, iat, exp }
}

export interface BootstrapOptions {
  server?: string
  caData?: string
  token?: string
  namespace?: string
  /** Extra clusters entries such as insecure-skip-tls-verify. */
  cluster?: Record<string, unknown>
}

/** A bootstrap kubeconfig with a token user, as a repository secret would hold it. */
export function bootstrapKubeconfig(options: BootstrapOptions = {}): string {
  return yaml.dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: 'ci',
        cluster: {
          server: options.server ?? SERVER,
          'certificate-authority-data': options.caData ?? CA_DATA,
          ...options.cluster
        }
      }
    ],
    users: [
      { name: 'minter', user: { token: options.token ?? BOOTSTRAP_TOKEN } }
    ],
    contexts: [
      {
        name: 'ci',
        context: {
          cluster: 'ci',
          user: 'minter',
          namespace: options.namespace ?? 'default'
        }
      }
    ],
    'current-context': 'ci'
  })
}
