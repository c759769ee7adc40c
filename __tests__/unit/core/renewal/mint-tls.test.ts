// Review finding 2 (mocked ID-token fetch and cluster API, no network): the
// helper refuses NODE_TLS_REJECT_UNAUTHORIZED=0 before any request, on the
// OIDC path (which does not go through openOidc) and the in-cluster one.
import { afterEach, describe, expect, it, jest } from '@jest/globals'

const fetchIdToken = jest.fn(() => Promise.resolve('a.b.c'))
jest.unstable_mockModule(
  '../../../../src/core/kube/bootstrap/id-token.js',
  () => ({
    fetchIdToken,
    issuerOf: (): string => 'https://issuer.invalid'
  })
)
const requestToken = jest.fn(() => Promise.reject(new Error('no server')))
jest.unstable_mockModule('../../../../src/core/kube/cluster-api.js', () => ({
  connect: (): { requestToken: typeof requestToken } => ({ requestToken })
}))

const { mintRenewal } = await import('../../../../src/core/renewal/mint.js')

const config = {
  version: 1 as const,
  server: 'https://203.0.113.10:6443',
  caData: Buffer.from('-----BEGIN CERTIFICATE-----').toString('base64'),
  namespace: 'scan',
  serviceAccount: 'scanner',
  audiences: [],
  secret: {
    name: 'ephemeral-scan-token-1-1-abcdef0123',
    uid: '0b5c2d1e-3f4a-4b6c-8d9e-0f1a2b3c4d5e'
  },
  windowEnd: 1_800_003_600,
  tokenSeconds: 600
}

afterEach(() => {
  delete process.env.NODE_TLS_REJECT_UNAUTHORIZED
})

describe('mintRenewal with NODE_TLS_REJECT_UNAUTHORIZED=0', () => {
  it.each([
    ['the job’s ID token', { kind: 'oidc' as const, audience: 'k8s' }],
    ['the in-cluster ServiceAccount', { kind: 'in-cluster' as const }]
  ])('refuses before any request with %s', async (_name, bootstrap) => {
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'
    await expect(mintRenewal({ ...config, bootstrap }, 600)).rejects.toThrow(
      /^NODE_TLS_REJECT_UNAUTHORIZED=0 is set in the environment of the command that ran the credential helper, .* so no token was renewed: remove it from that step's environment/
    )
    expect(fetchIdToken).not.toHaveBeenCalled()
    expect(requestToken).not.toHaveBeenCalled()
  })
})
