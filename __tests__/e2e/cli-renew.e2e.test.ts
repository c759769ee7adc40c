// `mint --renew-every` end to end, against a real kube-apiserver that trusts
// a loopback stand-in issuer (the API server, its JWT authenticator and
// kubectl are the real ones): the kubeconfig's exec user runs the credential
// helper, which re-mints with the ID token in the variable GitLab's
// id_tokens: sets, read from kubectl's own environment. The helper's clock
// is moved with libfaketime (kubectl's and the API server's stay real).
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { anchorsIn, createScanSetup, eventually } from './support/cluster.ts'
import { filesUnder, linesWith, printed, runCli } from './support/cli.ts'
import { jtiSeen } from './support/exec.ts'
import { clockAhead } from './support/faketime.ts'
import {
  grantOidcMinter,
  reviewSelf,
  startOidcCluster,
  type OidcCluster
} from './support/oidc-cluster.ts'
import { TRUSTED_JOB } from './support/oidc-issuer.ts'

let cluster: OidcCluster
let namespace: string
let scratch: string
const secrets: string[] = []

beforeAll(async () => {
  clockAhead('+1s') // fails the file at once when libfaketime is missing
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'est-cli-renew-'))
  cluster = await startOidcCluster()
  namespace = (await createScanSetup(cluster.admin, { minter: false }))
    .namespace
  await grantOidcMinter(cluster.admin, namespace, cluster.username, ['scanner'])
}, 180_000)

afterAll(async () => {
  fs.rmSync(scratch, { recursive: true, force: true })
  await cluster.stop()
}, 60_000)

function idToken(): string {
  const token = cluster.issuer.mint(TRUSTED_JOB, {
    audience: cluster.trust.audience,
    lifetimeSeconds: 1800
  })
  secrets.push(token)
  return token
}

function target(): string[] {
  return [
    '--server',
    cluster.server,
    '--certificate-authority-data',
    cluster.caData,
    '--namespace',
    namespace
  ]
}

/** The token the helper's cache holds now (read only to test revocation). */
function cachedToken(kubeconfig: string): string {
  const cache = JSON.parse(
    fs.readFileSync(path.join(path.dirname(kubeconfig), 'token.json'), 'utf8')
  ) as { token: string }
  secrets.push(cache.token)
  return cache.token
}

describe('mint --renew-every with an ID token in a variable (GitLab id_tokens:)', () => {
  it('writes a renewing kubeconfig that kubectl uses, renews past the renewal point, needs the variable, and revoke ends every token', async () => {
    const dir = fs.mkdtempSync(path.join(scratch, 'run-'))
    const jobEnv = { HOME: dir, K8S_ID_TOKEN: idToken() }
    const args = ['--oidc-token-env', 'K8S_ID_TOKEN', ...target()]
    const mint = await runCli(
      [
        'mint',
        '--service-account',
        'scanner',
        '--duration',
        '30m',
        '--renew-every',
        '10m',
        ...args,
        '--dir',
        dir
      ],
      jobEnv
    )
    expect(mint.stderr).not.toMatch(/error/i)
    expect(mint.code).toBe(0)
    const out = JSON.parse(mint.stdout) as {
      kubeconfig: string
      state: string
      credentialId: string
      expiresIn: number
      tokenLifetime: number
    }
    // The window is the job's; each token lives renew-every.
    expect(out.expiresIn).toBe(1800)
    expect(out.tokenLifetime).toBe(600)
    const text = fs.readFileSync(out.kubeconfig, 'utf8')
    expect(text).toContain(path.join('dist', 'credential.js'))
    expect(text).not.toMatch(/\btoken:/)
    expect(text).not.toContain(jobEnv.K8S_ID_TOKEN)
    const first = cachedToken(out.kubeconfig)

    // kubectl in the job's script: the variable is in its environment.
    const now = await jtiSeen(out.kubeconfig, jobEnv)
    expect(now.stderr).toBe('')
    expect(now.jti).toBe(out.credentialId)

    // Without the variable (kubectl outside the job's script), at the
    // renewal point: the helper's one sentence names the variable.
    const without = await jtiSeen(out.kubeconfig, {
      HOME: dir,
      ...clockAhead('+9m')
    })
    expect(without.code).not.toBe(0)
    expect(without.stderr).toContain(
      'The environment variable K8S_ID_TOKEN is missing or empty'
    )
    expect(without.stderr).toContain("run kubectl in the job's script")

    // With it, past the renewal point: a new token, another jti.
    const renewed = await jtiSeen(out.kubeconfig, {
      ...jobEnv,
      ...clockAhead('+9m')
    })
    expect(renewed.stderr).toBe('')
    expect(renewed.jti).toMatch(/^[0-9a-f-]{36}$/)
    expect(renewed.jti).not.toBe(out.credentialId)
    const second = cachedToken(out.kubeconfig)
    expect(second).not.toBe(first)
    const target2 = { server: cluster.server, caPem: cluster.caPem }
    expect((await reviewSelf(target2, first)).status).toBe(201)
    expect((await reviewSelf(target2, second)).status).toBe(201)

    const revoke = await runCli(
      ['revoke', '--state', out.state, ...args, '--dir', dir],
      jobEnv
    )
    expect(revoke.code).toBe(0)
    expect(revoke.stderr + revoke.stdout).toContain('The job minted 2 tokens')
    expect(revoke.stderr + revoke.stdout).toContain(
      `${out.credentialId}, ${renewed.jti ?? 'missing'}`
    )
    expect(await anchorsIn(cluster.admin, namespace)).toEqual([])
    expect(filesUnder(dir)).toEqual([])
    // Deleting the Secret revoked every token, the renewed one too (the
    // API server caches a token's authentication for up to 10 s).
    for (const token of [first, second]) {
      expect(
        await eventually(
          20,
          async () => (await reviewSelf(target2, token)).status === 401
        )
      ).toBe(true)
    }
  }, 120_000)

  it('refuses --renew-every with a kubeconfig identity: exit 2, one sentence, nothing left', async () => {
    const dir = fs.mkdtempSync(path.join(scratch, 'run-'))
    const result = await runCli(
      [
        'mint',
        '--service-account',
        'scanner',
        '--renew-every',
        '10m',
        '--kubeconfig',
        cluster.adminKubeconfig,
        '--namespace',
        namespace,
        '--dir',
        dir
      ],
      { HOME: dir }
    )
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    const lines = result.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^Flag --renew-every needs an identity/)
    expect(filesUnder(dir)).toEqual([])
    expect(await anchorsIn(cluster.admin, namespace)).toEqual([])
  })
})

describe('leak scan', () => {
  it('no run printed an ID token or a minted token', () => {
    expect(secrets.length).toBeGreaterThan(2)
    const everything = printed.map((r) => `${r.stdout}\n${r.stderr}`).join('\n')
    for (const secret of secrets) {
      expect(linesWith(secret, everything)).toEqual([])
    }
  })
})
