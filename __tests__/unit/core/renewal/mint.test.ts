// One renewal's mint (mocked: the cluster API, the ID-token fetch and the
// in-cluster bootstrap are replaced, so what is asked of them and how their
// failures read is what is checked; the real ones are in the e2e tests).
import { beforeEach, describe, expect, it, jest } from '@jest/globals'
import { fakeJwt } from '../../../../__fixtures__/tokens.js'
import type { RenewalConfig } from '../../../../src/core/renewal/state.js'

const requestToken =
  jest.fn<
    (
      namespace: string,
      serviceAccount: string,
      spec: Record<string, unknown>
    ) => Promise<unknown>
  >()
const connect =
  jest.fn<
    (
      kc: unknown,
      bounds: { attempts: number }
    ) => { server: string; requestToken: typeof requestToken }
  >()
connect.mockImplementation(() => ({
  server: 'https://203.0.113.10:6443',
  requestToken
}))
const fetchIdToken =
  jest.fn<(audience: string, bounds: { attempts: number }) => Promise<string>>()
fetchIdToken.mockResolvedValue('id-token')
const openInCluster = jest.fn<(values: { server?: string }) => { kc: string }>()
openInCluster.mockReturnValue({ kc: 'in-cluster-kc' })

jest.unstable_mockModule('../../../../src/core/kube/cluster-api.js', () => ({
  connect
}))
jest.unstable_mockModule(
  '../../../../src/core/kube/bootstrap/id-token.js',
  () => ({
    fetchIdToken,
    issuerOf: (): string => 'https://issuer.invalid'
  })
)
jest.unstable_mockModule(
  '../../../../src/core/kube/bootstrap/in-cluster.js',
  () => ({ openInCluster })
)

const { mintRenewal } = await import('../../../../src/core/renewal/mint.js')

const UID = '0b5c2d1e-3f4a-4b6c-8d9e-0f1a2b3c4d5e'
const NAME = 'ephemeral-scan-token-1-1-abcdef0123'
const JTI = '00000000-0000-4000-8000-000000000002'
const base: RenewalConfig = {
  version: 1,
  server: 'https://203.0.113.10:6443',
  caData: Buffer.from('ca').toString('base64'),
  namespace: 'scan',
  serviceAccount: 'scanner',
  audiences: ['https://kubernetes.default.svc'],
  secret: { name: NAME, uid: UID },
  windowEnd: 2_000_000_000,
  tokenSeconds: 600,
  bootstrap: { kind: 'oidc', audience: 'k8s' }
}

function issued(uid = UID, name = NAME): unknown {
  const now = Math.floor(Date.now() / 1000)
  return {
    token: fakeJwt({
      jti: JTI,
      iat: now,
      exp: now + 600,
      'kubernetes.io': { secret: { name, uid } }
    }),
    grantedSeconds: 600,
    warnings: []
  }
}

/** An ApiException as client-node throws it: a numeric code and the Status body. */
function apiError(code: number, kind?: string): Error {
  return Object.assign(new Error(`HTTP ${code}`), {
    code,
    body: JSON.stringify({ kind: 'Status', details: kind ? { kind } : {} })
  })
}

beforeEach(() => {
  requestToken.mockReset()
})

describe('mintRenewal (mocked cluster API and bootstrap)', () => {
  it('asks one ID token and one TokenRequest, bound to the Secret by name and uid', async () => {
    requestToken.mockResolvedValue(issued())
    const minted = await mintRenewal(base, 600)
    expect(fetchIdToken).toHaveBeenCalledTimes(1)
    expect(fetchIdToken.mock.calls[0]?.[1].attempts).toBe(1)
    expect(connect.mock.calls.at(-1)?.[1].attempts).toBe(1)
    expect(requestToken).toHaveBeenCalledTimes(1)
    expect(requestToken).toHaveBeenCalledWith('scan', 'scanner', {
      audiences: ['https://kubernetes.default.svc'],
      expirationSeconds: 600,
      boundObjectRef: { apiVersion: 'v1', kind: 'Secret', name: NAME, uid: UID }
    })
    expect(minted).toMatchObject({ grantedSeconds: 600, credentialId: JTI })
  })

  it('in-cluster: opens the pod’s ServiceAccount at the server main used', async () => {
    requestToken.mockResolvedValue(issued())
    const calls = fetchIdToken.mock.calls.length
    await mintRenewal({ ...base, bootstrap: { kind: 'in-cluster' } }, 600)
    expect(openInCluster).toHaveBeenCalledWith({ server: base.server })
    expect(connect.mock.calls.at(-1)?.[0]).toBe('in-cluster-kc')
    expect(fetchIdToken.mock.calls.length).toBe(calls)
  })

  it('refuses a token bound to another Secret', async () => {
    requestToken.mockResolvedValue(
      issued('11111111-2222-4333-8444-555555555555')
    )
    await expect(mintRenewal(base, 600)).rejects.toThrow(
      /not bound to the per-run Secret scan\/ephemeral-scan-token-1-1-abcdef0123/
    )
  })

  it.each([
    [apiError(401), /^The API server refused the job's GitHub ID token/],
    [apiError(403), /grant it 'create' on 'serviceaccounts\/token'/],
    [apiError(404, 'secrets'), /per-run Secret .* is gone or was replaced/],
    [apiError(409), /per-run Secret .* is gone or was replaced/],
    [
      apiError(404, 'serviceaccounts'),
      /ServiceAccount scan\/scanner does not exist/
    ],
    [apiError(500), /failed \(HTTP 500\), so no token was renewed/]
  ])('words %s as one sentence', async (error, sentence) => {
    requestToken.mockRejectedValue(error)
    const thrown = await mintRenewal(base, 600).catch((e: unknown) => e)
    expect((thrown as Error).message).toMatch(sentence)
    expect((thrown as Error).message).not.toContain('\n')
  })
})
