// The renewal bootstrap of kind 'env' (the CLI's --oidc-token-env with
// --renew-every): renewal.json's strict parse of it, the helper's sentence
// when kubectl's environment lacks the variable, the 401 wording, and the
// CLI's --renew-every flag. Mocked: the cluster API is replaced, so what the
// ID token is used for is what is checked (the real one: cli-renew e2e).
import { describe, expect, it, jest } from '@jest/globals'
import { fakeJwt } from '../../../../__fixtures__/tokens.js'
import type { RenewalConfig } from '../../../../src/core/renewal/state.js'

const requestToken = jest.fn<() => Promise<unknown>>()
const connect = jest.fn<(kc: unknown) => { requestToken: typeof requestToken }>(
  () => ({ requestToken })
)
jest.unstable_mockModule('../../../../src/core/kube/cluster-api.js', () => ({
  connect
}))

const { mintRenewal, idTokenFromEnv } =
  await import('../../../../src/core/renewal/mint.js')
const { parseRenewalConfig } =
  await import('../../../../src/core/renewal/state.js')
const { parseMintFlags } = await import('../../../../src/cli/flags.js')
const { OIDC_CA_DATA } =
  await import('../../../../__fixtures__/id-token-stub.js')

const UID = '0b5c2d1e-3f4a-4b6c-8d9e-0f1a2b3c4d5e'
const config: RenewalConfig = {
  version: 1,
  server: 'https://203.0.113.10:6443',
  caData: Buffer.from('ca').toString('base64'),
  namespace: 'scan',
  serviceAccount: 'scanner',
  audiences: ['https://kubernetes.default.svc'],
  secret: { name: 'ephemeral-scan-token-1-1-abcdef0123', uid: UID },
  windowEnd: 2_000_000_000,
  tokenSeconds: 600,
  bootstrap: { kind: 'env', variable: 'K8S_ID_TOKEN' }
}

describe("renewal.json's env bootstrap (strict parse)", () => {
  it('reads a variable name back', () => {
    expect(parseRenewalConfig(JSON.stringify(config)).bootstrap).toEqual({
      kind: 'env',
      variable: 'K8S_ID_TOKEN'
    })
  })

  it.each([
    ['not a name', { kind: 'env', variable: 'A-B' }],
    ['a leading digit', { kind: 'env', variable: '1A' }],
    ['empty', { kind: 'env', variable: '' }],
    ['too long', { kind: 'env', variable: `A${'B'.repeat(128)}` }],
    ['a value where the name goes', { kind: 'env', variable: 'a.b.c' }],
    ['an extra field', { kind: 'env', variable: 'A', token: 'x' }],
    ['no variable', { kind: 'env' }]
  ])('refuses %s', (_what, bootstrap) => {
    expect(() =>
      parseRenewalConfig(JSON.stringify({ ...config, bootstrap }))
    ).toThrow(/is not one the ephemeral-scan-token step wrote/)
  })
})

describe("the helper's ID token from its environment", () => {
  it.each([
    ['missing', {}],
    ['empty', { K8S_ID_TOKEN: '  ' }]
  ])(
    'says in one sentence, naming the variable, where to run kubectl when it is %s',
    (_what, env) => {
      let message = ''
      try {
        idTokenFromEnv('K8S_ID_TOKEN', env)
      } catch (error) {
        message = (error as Error).message
      }
      expect(message).toMatch(
        /^The environment variable K8S_ID_TOKEN is missing or empty .* run kubectl in the job's script, where the CI sets K8S_ID_TOKEN \(GitLab: id_tokens:\)\.$/
      )
      expect(message).not.toContain('\n')
    }
  )

  it.each([
    ['a job token that is no JWT', 'glcbt-64_not-a-jwt-but-a-secret'],
    ['a JWT without an audience', fakeJwt({ sub: 'x' })]
  ])(
    'sends nothing when the variable renewal.json names holds %s (the file may be forged)',
    (_what, value) => {
      let message = ''
      try {
        idTokenFromEnv('SOME_SECRET', { SOME_SECRET: value })
      } catch (error) {
        message = (error as Error).message
      }
      expect(message).toMatch(
        /^The environment variable SOME_SECRET does not hold an ID token .* sent nowhere/
      )
      expect(message).not.toContain(value)
    }
  )

  it('mints with the token from the variable, as a bearer of the recorded server', async () => {
    const now = Math.floor(Date.now() / 1000)
    requestToken.mockResolvedValueOnce({
      token: fakeJwt({
        jti: '00000000-0000-4000-8000-000000000002',
        iat: now,
        exp: now + 600,
        'kubernetes.io': {
          secret: { name: config.secret.name, uid: UID }
        }
      }),
      grantedSeconds: 600
    })
    const idToken = fakeJwt({ aud: 'ephemeral-scan-token' })
    process.env.K8S_ID_TOKEN = idToken
    try {
      await mintRenewal(config, 600)
    } finally {
      delete process.env.K8S_ID_TOKEN
    }
    const kc = connect.mock.calls.at(-1)?.[0] as {
      getCurrentUser(): { token?: string } | null
      getCurrentCluster(): { server: string } | null
    }
    expect(kc.getCurrentUser()?.token).toBe(idToken)
    expect(kc.getCurrentCluster()?.server).toBe(config.server)
  })

  it('words a 401 as the ID token in that variable refused, perhaps expired', async () => {
    requestToken.mockRejectedValueOnce(
      Object.assign(new Error('HTTP 401'), { code: 401, body: '{}' })
    )
    const idToken = fakeJwt({ aud: 'ephemeral-scan-token' })
    process.env.K8S_ID_TOKEN = idToken
    let message = ''
    try {
      await mintRenewal(config, 600)
    } catch (error) {
      message = (error as Error).message
    } finally {
      delete process.env.K8S_ID_TOKEN
    }
    expect(message).toMatch(
      /^The API server refused the ID token in K8S_ID_TOKEN \(HTTP 401\).*expired \(GitLab's lives as long as the job's timeout\)/
    )
    expect(message).not.toContain('header.payload')
  })
})

describe('the CLI flag --renew-every', () => {
  const env = {
    K8S_ID_TOKEN: 'x',
    HOME: '/nonexistent'
  }
  const idToken = [
    '--service-account',
    'scanner',
    '--oidc-token-env',
    'K8S_ID_TOKEN',
    '--server',
    'https://203.0.113.10:6443',
    '--certificate-authority-data',
    OIDC_CA_DATA
  ]

  it('takes a duration of 10m or more with an ID token in a variable', () => {
    const options = parseMintFlags([...idToken, '--renew-every', '15m'], env)
    expect(options).toMatchObject({ renewEverySeconds: 900 })
  })

  it.each([
    [
      ['--renew-every', '5m'],
      /^Flag --renew-every is '5m', but .* 10m or more/
    ],
    [
      ['--renew-every', '10m', '--bind-to', 'none'],
      /^Flag --renew-every needs --bind-to secret/
    ]
  ])('refuses %j', (extra, sentence) => {
    expect(() => parseMintFlags([...idToken, ...extra], env)).toThrow(sentence)
  })

  it('refuses a kubeconfig identity and Buildkite, whose agent token kubectl lacks', () => {
    expect(() =>
      parseMintFlags(
        [
          '--service-account',
          'scanner',
          '--kubeconfig',
          '/tmp/k',
          '--renew-every',
          '10m'
        ],
        env
      )
    ).toThrow(/^Flag --renew-every needs an identity .* a kubeconfig is one/)
    expect(() =>
      parseMintFlags(
        [
          '--service-account',
          'scanner',
          '--identity',
          'buildkite',
          '--oidc-audience',
          'k8s',
          '--server',
          'https://203.0.113.10:6443',
          '--certificate-authority-data',
          OIDC_CA_DATA,
          '--renew-every',
          '10m'
        ],
        env
      )
    ).toThrow(/^Flag --renew-every cannot renew with Buildkite's agent/)
  })
})
