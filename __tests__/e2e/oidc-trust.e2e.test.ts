// The cluster side of the zero-secret bootstrap, against the real
// kube-apiserver: it trusts a loopback stand-in of GitHub's OIDC issuer
// through --authentication-config, and the runner's ID-token endpoint is
// served the way @actions/core's getIDToken calls it. What is refused here is
// refused by the API server's own authenticator and RBAC, not by our code.
import { execFile } from 'node:child_process'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { CoreV1Api } from '@kubernetes/client-node'
import { REPO, eventually, kubectl } from './support/cluster.ts'
import {
  callApi,
  grantOidcMinter,
  reviewSelf,
  startOidcCluster,
  tokenKubeconfig,
  type OidcCluster
} from './support/oidc-cluster.ts'
import {
  TRUSTED_JOB,
  claimsOf,
  type GitHubJob,
  type MintOptions
} from './support/oidc-issuer.ts'
import { maskedValues } from './support/runner.ts'

let cluster: OidcCluster
let scratch: string

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'est-oidc-test-'))
  cluster = await startOidcCluster()
}, 180_000)

afterAll(async () => {
  fs.rmSync(scratch, { recursive: true, force: true })
  await cluster.stop()
}, 60_000)

interface Child {
  code: number
  stdout: string
}

/**
 * core.getIDToken in its own process, as the bundled action calls it, with
 * only the environment a step would get. The token is never printed except in
 * core's own `::add-mask::` line.
 */
function getIDToken(
  env: Record<string, string>,
  audience: string
): Promise<Child> {
  const script = `
    import * as core from '@actions/core'
    try {
      const token = await core.getIDToken(process.env.AUDIENCE)
      process.stdout.write('\\nGOT ' + token.length + ' characters\\n')
    } catch (error) {
      process.stdout.write('\\nERROR ' + error.message + '\\n')
      process.exitCode = 1
    }`
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', script],
      {
        cwd: REPO,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          AUDIENCE: audience,
          ...env
        }
      },
      (error, stdout) => {
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : 1) : 0,
          stdout
        })
      }
    )
  })
}

function mint(options: MintOptions = {}, job = TRUSTED_JOB): string {
  return cluster.issuer.mint(job, {
    audience: cluster.trust.audience,
    ...options
  })
}

async function statusOf(token: string): Promise<number> {
  return (await reviewSelf(cluster, token)).status
}

describe('an ID token from the runner endpoint', () => {
  it('is fetched by @actions/core getIDToken, masked, and mapped to github:<repository>', async () => {
    const child = await getIDToken(
      cluster.idTokenEndpoint.env(),
      cluster.trust.audience
    )
    expect(child.code).toBe(0)
    const [token] = maskedValues(child.stdout)
    expect(token).toBeDefined()
    expect(cluster.idTokenEndpoint.issued).toContain(token)
    expect(cluster.idTokenEndpoint.requests.at(-1)).toMatchObject({
      method: 'GET',
      audience: cluster.trust.audience,
      authorized: true,
      status: 200
    })
    expect(claimsOf(token!)).toMatchObject({
      iss: cluster.issuer.url,
      aud: cluster.trust.audience,
      repository: 'octo-org/scanner',
      sub: 'repo:octo-org/scanner:ref:refs/heads/main'
    })

    const me = await reviewSelf(cluster, token!)
    expect(me.status).toBe(201)
    expect(me.username).toBe('github:octo-org/scanner')
    expect(me.username).toBe(cluster.username)
    expect(me.uid).toBe(TRUSTED_JOB.repositoryId)
    expect(me.groups).toContain('system:authenticated')
  })

  it('works as a bearer token for the real kubectl (auth whoami)', async () => {
    const file = path.join(scratch, 'id-token.kubeconfig')
    fs.writeFileSync(file, tokenKubeconfig(cluster, mint()), { mode: 0o600 })
    const result = await kubectl(file, ['auth', 'whoami', '-o', 'json'])
    expect(result.stderr).toBe('')
    expect(JSON.parse(result.stdout)).toMatchObject({
      status: { userInfo: { username: cluster.username } }
    })
  })

  it('for the default audience (no audience asked) is refused by the API server with 401', async () => {
    const child = await getIDToken(cluster.idTokenEndpoint.env(), '')
    expect(child.code).toBe(0)
    const [token] = maskedValues(child.stdout)
    expect(cluster.idTokenEndpoint.requests.at(-1)?.audience).toBeNull()
    expect(claimsOf(token!).aud).toBe('https://github.com/octo-org')
    const refused = await reviewSelf(cluster, token!)
    expect(refused).toMatchObject({ status: 401, message: 'Unauthorized' })
  })
})

describe('the API server refuses (401) an ID token', () => {
  // Each differs from the accepted token in one respect (plus what follows
  // from it: another owner also means another job_workflow_ref).
  const cases: [string, MintOptions, GitHubJob][] = [
    [
      'for another audience',
      { audience: 'https://github.com/octo-org' },
      TRUSTED_JOB
    ],
    [
      'from another owner',
      {},
      { ...TRUSTED_JOB, owner: 'evil-org', ownerId: '6660666' }
    ],
    [
      'from an owner with the trusted name but another id (repository_owner_id)',
      {},
      { ...TRUSTED_JOB, ownerId: '6660666' }
    ],
    [
      'from another repository of the trusted owner (job_workflow_ref)',
      {},
      { ...TRUSTED_JOB, repo: 'other', repositoryId: '2000999' }
    ],
    [
      'from the trusted workflow on another branch (job_workflow_ref)',
      {},
      { ...TRUSTED_JOB, ref: 'refs/heads/feature' }
    ],
    ['that expired', { lifetimeSeconds: -3600 }, TRUSTED_JOB],
    [
      'signed by a key the issuer does not publish',
      { forgedSignature: true },
      TRUSTED_JOB
    ],
    [
      'naming another issuer',
      { claims: { iss: 'https://token.actions.githubusercontent.com' } },
      TRUSTED_JOB
    ]
  ]

  it.each(cases)('%s', async (_what, options, job) => {
    // The control: the same cluster accepts an otherwise identical good token.
    expect(await statusOf(mint())).toBe(201)
    const refused = await reviewSelf(cluster, mint(options, job))
    expect(refused).toMatchObject({ status: 401, message: 'Unauthorized' })
    expect(refused.username).toBeUndefined()
  })
})

describe('the mapped user and RBAC', () => {
  async function namespaceWithScanner(): Promise<string> {
    const core = cluster.admin.makeApiClient(CoreV1Api)
    const namespace = `oidc-${Math.random().toString(16).slice(2, 10)}`
    await core.createNamespace({ body: { metadata: { name: namespace } } })
    await core.createNamespacedServiceAccount({
      namespace,
      body: { metadata: { name: 'scanner' } }
    })
    return namespace
  }

  function tokenRequest(
    namespace: string,
    bearer: string,
    secret?: { name: string; uid: string }
  ): ReturnType<typeof callApi> {
    return callApi(
      cluster,
      bearer,
      'POST',
      `/api/v1/namespaces/${namespace}/serviceaccounts/scanner/token`,
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: {
          audiences: [],
          expirationSeconds: 600,
          ...(secret
            ? {
                boundObjectRef: { apiVersion: 'v1', kind: 'Secret', ...secret }
              }
            : {})
        }
      }
    )
  }

  it('without a binding: TokenRequest is 403 and the message names the mapped user', async () => {
    const namespace = await namespaceWithScanner()
    const answer = await tokenRequest(namespace, mint())
    expect(answer.status).toBe(403)
    expect(answer.body.message).toBe(
      `serviceaccounts "scanner" is forbidden: User "github:octo-org/scanner" cannot create resource "serviceaccounts/token" in API group "" in the namespace "${namespace}"`
    )
  })

  it('with create on serviceaccounts/token and create/delete on Secrets: mints a Secret-bound token, and deleting the Secret with a fresh ID token revokes it', async () => {
    const namespace = await namespaceWithScanner()
    await grantOidcMinter(cluster.admin, namespace, cluster.username, [
      'scanner'
    ])

    const secret = await callApi(
      cluster,
      mint(),
      'POST',
      `/api/v1/namespaces/${namespace}/secrets`,
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'per-run' }
      }
    )
    expect(secret.status).toBe(201)
    const uid = (secret.body.metadata as { uid: string }).uid

    const minted = await tokenRequest(namespace, mint(), {
      name: 'per-run',
      uid
    })
    expect(minted.status).toBe(201)
    const token = (minted.body.status as { token: string }).token
    const me = await reviewSelf(cluster, token)
    expect(me.username).toBe(`system:serviceaccount:${namespace}:scanner`)

    // Only the named account: the binding's resourceNames hold.
    const other = await callApi(
      cluster,
      mint(),
      'POST',
      `/api/v1/namespaces/${namespace}/serviceaccounts/default/token`,
      {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { audiences: [], expirationSeconds: 600 }
      }
    )
    expect(other.status).toBe(403)

    // The ID token can do nothing else, for example read the Secret back.
    const read = await callApi(
      cluster,
      mint(),
      'GET',
      `/api/v1/namespaces/${namespace}/secrets/per-run`
    )
    expect(read.status).toBe(403)

    const deleted = await callApi(
      cluster,
      mint(),
      'DELETE',
      `/api/v1/namespaces/${namespace}/secrets/per-run`,
      {
        apiVersion: 'v1',
        kind: 'DeleteOptions',
        preconditions: { uid }
      }
    )
    expect(deleted.status).toBe(200)
    expect(
      await eventually(30, async () => (await statusOf(token)) === 401)
    ).toBe(true)
  })
})

describe('the runner endpoint stand-in answers getIDToken like the runner', () => {
  it('refuses a wrong request token, and core reports the 401', async () => {
    const env = {
      ...cluster.idTokenEndpoint.env(),
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'not-the-token'
    }
    const child = await getIDToken(env, cluster.trust.audience)
    expect(child.code).toBe(1)
    expect(child.stdout).toMatch(/ERROR .*Error Code : 401/s)
    expect(maskedValues(child.stdout)).toEqual([])
    expect(cluster.idTokenEndpoint.requests.at(-1)).toMatchObject({
      authorized: false,
      status: 401
    })
  })

  it('without ACTIONS_ID_TOKEN_REQUEST_URL (no id-token: write) core fails before any request', async () => {
    const before = cluster.idTokenEndpoint.requests.length
    const child = await getIDToken(
      { ACTIONS_ID_TOKEN_REQUEST_TOKEN: cluster.idTokenEndpoint.requestToken },
      cluster.trust.audience
    )
    expect(child.code).toBe(1)
    expect(child.stdout).toContain(
      'ERROR Error message: Unable to get ACTIONS_ID_TOKEN_REQUEST_URL env variable'
    )
    expect(cluster.idTokenEndpoint.requests.length).toBe(before)
  })

  it('can answer a failure, which core surfaces with its status', async () => {
    cluster.idTokenEndpoint.failure = {
      status: 403,
      body: { message: 'id-token permission missing' }
    }
    try {
      const child = await getIDToken(
        cluster.idTokenEndpoint.env(),
        cluster.trust.audience
      )
      expect(child.code).toBe(1)
      expect(child.stdout).toMatch(
        /Error Code : 403.*Error Message: id-token permission missing/s
      )
    } finally {
      cluster.idTokenEndpoint.reset()
    }
  })
})
